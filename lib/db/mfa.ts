/**
 * Two-factor authentication's rows (infra/migrations/00014_mfa.sql): TOTP factors, recovery codes and login
 * challenges. Every acceptance is one guarded statement, so two requests racing with the same code, recovery
 * code or challenge can never both succeed.
 */
import type { Origin } from '../audit/events.js'
import { USER } from '../audit/events.js'
import { recordEvent, recordEvents } from './audit.js'
import type { Sql } from './client.js'

export interface SealedFactor {
  id: string
  sealed: string
  lastUsedStep: number
}

export interface StoredRecoveryCode {
  id: number
  hint: string
  hash: string
}

export interface ChallengeState {
  identityId: number
  credentialsVersion: number
}

export interface MfaRepository {
  /** Stores a pending factor, replacing the identity's other pending ones. */
  createPending(identityId: number, factorId: string, sealed: string): Promise<void>
  /** The identity's pending factor `factorId`, if created less than `maxAgeSeconds` ago. */
  pending(identityId: number, factorId: string, maxAgeSeconds: number): Promise<SealedFactor | undefined>
  /**
   * Activates the pending factor at time step `step` (so that code is spent) and replaces the identity's recovery
   * codes, with its audit event; false when it is no longer pending, the step was spent, or another is active.
   */
  activate(identityId: number, factorId: string, step: number, codes: StoredRecoveryCode[], origin: Origin): Promise<boolean>
  /** The identity's active TOTP factor. */
  active(identityId: number): Promise<SealedFactor | undefined>
  /** Spends time step `step` of the active factor: false when it (or a later one) was accepted before. */
  spendStep(factorId: string, step: number): Promise<boolean>
  /** The unused recovery codes of the identity whose hint is `hint`. */
  recoveryCandidates(identityId: number, hint: string): Promise<StoredRecoveryCode[]>
  /** Marks the recovery code used, with its audit event; false when it was used already (a racing request). */
  spendRecoveryCode(identityId: number, id: number, origin: Origin): Promise<boolean>
  recoveryCodesLeft(identityId: number): Promise<number>
  /** Stores a login challenge by the SHA-256 of its token. */
  openChallenge(tokenHash: Uint8Array, state: ChallengeState, ttlSeconds: number): Promise<void>
  /** Counts one attempt at the challenge: its state, unless it expired, is unknown or has used `maxAttempts`. */
  attemptChallenge(tokenHash: Uint8Array, maxAttempts: number): Promise<ChallengeState | undefined>
  /** Ends the challenge (it succeeded): false when another request ended it first. */
  closeChallenge(tokenHash: Uint8Array): Promise<boolean>
}

interface FactorRow {
  id: string
  secret_sealed: string
  last_used_step: string
}

const toFactor = (row: FactorRow | undefined): SealedFactor | undefined =>
  row && { id: row.id, sealed: row.secret_sealed, lastUsedStep: Number(row.last_used_step) }

export function createMfaRepository(sql: Sql): MfaRepository {
  return {
    async createPending(identityId, factorId, sealed) {
      await sql`
        with dropped as (delete from attune.mfa_factor where identity_id = ${identityId} and status = 'pending')
        insert into attune.mfa_factor (id, identity_id, kind, secret_sealed, status)
        values (${factorId}, ${identityId}, 'totp', ${sealed}, 'pending')`
    },

    async pending(identityId, factorId, maxAgeSeconds) {
      const [row] = await sql<FactorRow[]>`
        select id, secret_sealed, last_used_step from attune.mfa_factor
        where id = ${factorId} and identity_id = ${identityId} and status = 'pending'
          and created > now() - make_interval(secs => ${maxAgeSeconds})`
      return toFactor(row)
    },

    async activate(identityId, factorId, step, codes, origin) {
      return sql.begin(async (tx) => {
        const [activated] = await tx<{ id: string }[]>`
          update attune.mfa_factor set status = 'active', activated = now(), last_used_step = ${step}
          where id = ${factorId} and identity_id = ${identityId} and status = 'pending' and last_used_step < ${step}
            and not exists (select 1 from attune.mfa_factor a where a.identity_id = ${identityId} and a.status = 'active')
          returning id`
        if (!activated) return false
        await tx`delete from attune.mfa_recovery_code where identity_id = ${identityId}`
        await tx`
          insert into attune.mfa_recovery_code (identity_id, id, hint, code_hash)
          select ${identityId}, c.id, c.hint, c.hash from jsonb_to_recordset(${tx.json(codes as never)}::jsonb) as c (id smallint, hint text, hash text)`
        await tx`${recordEvent(tx, { type: 'mfa.enabled', outcome: 'success', actor: USER, origin, identityId, sessionId: null, data: { factor_id: factorId, kind: 'totp' } })}`
        return true
      })
    },

    async active(identityId) {
      const [row] = await sql<FactorRow[]>`
        select id, secret_sealed, last_used_step from attune.mfa_factor where identity_id = ${identityId} and status = 'active'`
      return toFactor(row)
    },

    async spendStep(factorId, step) {
      const rows = await sql`
        update attune.mfa_factor set last_used_step = ${step}
        where id = ${factorId} and status = 'active' and last_used_step < ${step} returning id`
      return rows.length === 1
    },

    async recoveryCandidates(identityId, hint) {
      return sql<StoredRecoveryCode[]>`
        select id, hint, code_hash as hash from attune.mfa_recovery_code
        where identity_id = ${identityId} and hint = ${hint} and used is null order by id`
    },

    async spendRecoveryCode(identityId, id, origin) {
      const [row] = await sql<{ left: number }[]>`
        with spent as (
          update attune.mfa_recovery_code set used = now() where identity_id = ${identityId} and id = ${id} and used is null
          returning identity_id
        ), event as (${recordEvents(
          sql,
          { type: 'mfa.recovery_code_used', outcome: 'success', actor: USER, origin },
          sql`select identity_id, null::uuid as session_id, jsonb_build_object('code', ${id}::int) as data from spent`,
        )})
        select count(*)::int as left from spent`
      return row?.left === 1
    },

    async recoveryCodesLeft(identityId) {
      const [row] = await sql<{ left: number }[]>`
        select count(*)::int as left from attune.mfa_recovery_code where identity_id = ${identityId} and used is null`
      return row?.left ?? 0
    },

    async openChallenge(tokenHash, { identityId, credentialsVersion }, ttlSeconds) {
      await sql`
        insert into attune.mfa_challenge (token_hash, identity_id, credentials_version, expires)
        values (${Buffer.from(tokenHash)}, ${identityId}, ${credentialsVersion}, now() + make_interval(secs => ${ttlSeconds}))`
    },

    async attemptChallenge(tokenHash, maxAttempts) {
      const [row] = await sql<{ identity_id: string; credentials_version: string }[]>`
        update attune.mfa_challenge set attempts = attempts + 1
        where token_hash = ${Buffer.from(tokenHash)} and expires > now() and attempts < ${maxAttempts}
        returning identity_id, credentials_version`
      return row && { identityId: Number(row.identity_id), credentialsVersion: Number(row.credentials_version) }
    },

    async closeChallenge(tokenHash) {
      const rows = await sql`delete from attune.mfa_challenge where token_hash = ${Buffer.from(tokenHash)} returning 1`
      return rows.length === 1
    },
  }
}
