/**
 * Login challenges (infra/migrations/00014_mfa.sql `mfa_challenge`): a login whose identity has a second factor
 * stores one instead of opening a session. Apart from the factors' statements (lib/db/mfa.ts), so the login
 * function carries only these.
 */
import type { Sql } from './client.js'
import type { AlsoWhenOpened } from './sessions.js'

/** How the first factor was proved: a password, or a provider's sign-in (lib/oauth). RFC 8176 `amr` values. */
export type FirstFactor = 'pwd' | 'fed'

export interface ChallengeState {
  identityId: number
  credentialsVersion: number
  firstFactor: FirstFactor
}

export interface ChallengeRepository {
  /** Stores a login challenge by the SHA-256 of its token; `also` runs in the same statement (the login throttle's reset). */
  openChallenge(tokenHash: Uint8Array, state: ChallengeState, ttlSeconds: number, also?: AlsoWhenOpened[]): Promise<void>
  /** Counts one attempt at the challenge: its state, unless it expired, is unknown or has used `maxAttempts`. */
  attemptChallenge(tokenHash: Uint8Array, maxAttempts: number): Promise<ChallengeState | undefined>
  /** Ends the challenge (it succeeded): false when another request ended it first. */
  closeChallenge(tokenHash: Uint8Array): Promise<boolean>
  /** Deletes expired challenges (the maintenance function); answers how many. */
  purgeExpired(): Promise<number>
}

export function createChallengeRepository(sql: Sql): ChallengeRepository {
  return {
    async openChallenge(tokenHash, { identityId, credentialsVersion, firstFactor }, ttlSeconds, also = []) {
      const opened = sql`exists (select 1 from opened)`
      await sql`
        with opened as (
          insert into attune.mfa_challenge (token_hash, identity_id, credentials_version, first_method, expires)
          values (${Buffer.from(tokenHash)}, ${identityId}, ${credentialsVersion}, ${firstFactor}, now() + make_interval(secs => ${ttlSeconds}))
          returning 1
        )${also.reduce((more, statement, i) => sql`${more}, ${sql(`also_${i}`)} as (${statement(opened)})`, sql``)}
        select 1`
    },

    async attemptChallenge(tokenHash, maxAttempts) {
      const [row] = await sql<{ identity_id: string; credentials_version: string; first_method: FirstFactor }[]>`
        update attune.mfa_challenge set attempts = attempts + 1
        where token_hash = ${Buffer.from(tokenHash)} and expires > now() and attempts < ${maxAttempts}
        returning identity_id, credentials_version, first_method`
      return (
        row && { identityId: Number(row.identity_id), credentialsVersion: Number(row.credentials_version), firstFactor: row.first_method }
      )
    },

    async closeChallenge(tokenHash) {
      const rows = await sql`delete from attune.mfa_challenge where token_hash = ${Buffer.from(tokenHash)} returning 1`
      return rows.length === 1
    },

    async purgeExpired() {
      return (await sql`delete from attune.mfa_challenge where expires < now()`).count
    },
  }
}
