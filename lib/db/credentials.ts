/**
 * Changing a password, as one transaction over `attune.identity` and `attune.session`:
 * 1. the new hash replaces the old one and `credentials_version` moves on, only if it is still the version
 *    whose password was just verified (a second, concurrent change loses);
 * 2. every other active session of the identity ends;
 * 3. the current session gets a new refresh token (the one from before the change is retired with no grace);
 * 4. the audit log records the change and each session it ended.
 *
 * Why it wins every race with logins that verified the old password: step 1 takes the identity row's lock
 * until commit. A login inserts its session only while holding a share lock on that row at the version it
 * verified (lib/db/sessions.ts `open`). Either the login's insert committed first, and step 2 (a new
 * statement, so a new snapshot under READ COMMITTED) sees and ends its session; or it waits for this
 * commit, then finds the version changed and opens nothing.
 */
import type { Origin } from '../audit/events.js'
import { USER } from '../audit/events.js'
import type { SessionPolicy } from '../config.js'
import type { IssuedClaims } from '../tokens/claims.js'
import { recordEvent } from './audit.js'
import type { Sql } from './client.js'
import { grantsColumns } from './grants.js'
import { activeSession } from './session-lookup.js'
import { assuranceColumns, endSessions, refreshedExpiry, toIssuedClaims } from './sessions.js'

export interface PasswordChange {
  identityId: number
  /** The version whose password the caller verified. */
  verifiedVersion: number
  passwordHash: string
  /** The session that made the change: it stays, with a new refresh token. */
  sessionId: string
  next: { refreshTokenId: string; refreshIssuedAt: number }
  /** The request, for the audit events (`password.changed`, and `session.ended` for each session it ends). */
  origin: Origin
}

export type PasswordChangeOutcome =
  | { outcome: 'changed'; otherSessionsEnded: number; claims: IssuedClaims }
  /** The password changed after it was verified (another change won). Nothing was written. */
  | { outcome: 'stale' }
  /** The session that asked ended meanwhile. Nothing was written. */
  | { outcome: 'session_ended' }

export interface CredentialRepository {
  changePassword(change: PasswordChange): Promise<PasswordChangeOutcome>
}

/** Thrown inside the transaction to roll it back; never leaves this module. */
class Rollback extends Error {
  constructor(readonly outcome: Exclude<PasswordChangeOutcome, { outcome: 'changed' }>) {
    super(outcome.outcome)
  }
}

export function createCredentialRepository(sql: Sql, policy: SessionPolicy): CredentialRepository {
  return {
    async changePassword(c) {
      try {
        return await sql.begin(async (tx) => {
          const changed = await tx`
            update attune.identity
            set password_hash = ${c.passwordHash}, credentials_version = credentials_version + 1, updated = now()
            where id = ${c.identityId} and credentials_version = ${c.verifiedVersion}`
          if (changed.count !== 1) throw new Rollback({ outcome: 'stale' })
          const otherSessionsEnded = await endSessions(
            tx,
            policy,
            tx`s.identity_id = ${c.identityId} and s.id <> ${c.sessionId}`,
            'password_changed',
            { actor: USER, origin: c.origin },
          )
          const kept = await tx`
            update attune.session s
            set refresh_jti = ${c.next.refreshTokenId}, refresh_iat = ${c.next.refreshIssuedAt},
                previous_jti = null, rotated = null, last_used = now(), expires = ${refreshedExpiry(tx, policy, 's')}
            where s.id = ${c.sessionId} and s.identity_id = ${c.identityId} and ${activeSession(tx, policy, 's')}`
          if (kept.count !== 1) throw new Rollback({ outcome: 'session_ended' })
          await recordEvent(tx, {
            type: 'password.changed',
            outcome: 'success',
            actor: USER,
            origin: c.origin,
            identityId: c.identityId,
            sessionId: c.sessionId,
            data: { other_sessions_ended: otherSessionsEnded },
          })
          const [claims] = await tx<Parameters<typeof toIssuedClaims>[0][]>`
            select ${assuranceColumns(tx, 's')}, ${grantsColumns(tx, c.identityId)} from attune.session s where s.id = ${c.sessionId}`
          return {
            outcome: 'changed' as const,
            otherSessionsEnded,
            claims: toIssuedClaims(claims as Parameters<typeof toIssuedClaims>[0]),
          }
        })
      } catch (error) {
        if (error instanceof Rollback) return error.outcome
        throw error
      }
    },
  }
}
