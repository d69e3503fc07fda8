/**
 * Suspending an account and ending its sessions, as an administrator (README "Sessions, refresh and logout"), each one
 * transaction with its audit events, the administrator as actor.
 *
 * Why a suspension wins every race with a sign-in: it moves `credentials_version` under the identity row's lock,
 * and a session opens only while holding a share lock on that row at the version its sign-in verified, and only
 * while the row is not suspended (lib/db/sessions.ts `open`). Either that session committed first, and the next
 * statement here (a new snapshot under READ COMMITTED) sees and ends it; or the opening waits for this commit,
 * then finds the version moved and opens nothing. A two-factor challenge opened before remembers the old version
 * too, so it cannot finish either.
 */
import type { SessionPolicy } from '../config.js'
import { recordEvent } from './audit.js'
import type { Queryable, Sql } from './client.js'
import type { ChangeAuthor } from './roles.js'
import type { RevokeReason } from './sessions.js'
import { endSessions } from './sessions.js'

/** The longest reason kept with a suspension (the table's check says the same). */
export const SUSPENSION_REASON_MAX = 200

export interface Suspension {
  /** False when the identity was suspended already (its first suspension's time and reason stay). */
  newly: boolean
  sessionsEnded: number
}

export interface SuspensionRepository {
  /** Suspends the identity and ends every session of it; undefined when there is no such identity. */
  suspend(identityId: number, reason: string | null, author: ChangeAuthor): Promise<Suspension | undefined>
  /** Lifts the suspension: true when there was one, false when there was none, undefined for no such identity. */
  unsuspend(identityId: number, author: ChangeAuthor): Promise<boolean | undefined>
  /** Ends every active session of the identity (sign-ins may follow); how many, undefined for no such identity. */
  endSessions(identityId: number, author: ChangeAuthor): Promise<number | undefined>
}

export function createSuspensionRepository(sql: Sql, policy: SessionPolicy): SuspensionRepository {
  /** Ends the identity's active sessions for `reason`, each with its `session.ended` by the author; how many. */
  const endAll = (tx: Queryable, identityId: number, reason: RevokeReason, author: ChangeAuthor): Promise<number> =>
    endSessions(tx, policy, tx`s.identity_id = ${identityId}`, reason, author)

  const exists = async (tx: Queryable, identityId: number): Promise<boolean> =>
    (await tx`select 1 from attune.identity where id = ${identityId}`).length === 1

  return {
    suspend(identityId, reason, author) {
      return sql.begin(async (tx) => {
        const [identity] = await tx<{ newly: boolean }[]>`
          with before as (select id, suspended_at from attune.identity where id = ${identityId} for update)
          update attune.identity i
          set suspended_at = coalesce(b.suspended_at, now()),
              suspended_reason = case when b.suspended_at is null then ${reason}::text else i.suspended_reason end,
              credentials_version = i.credentials_version + 1, updated = now()
          from before b where i.id = b.id
          returning b.suspended_at is null as newly`
        if (!identity) return undefined
        const sessionsEnded = await endAll(tx, identityId, 'suspended', author)
        if (identity.newly)
          await tx`${recordEvent(tx, {
            type: 'identity.suspended',
            outcome: 'success',
            actor: author.actor,
            origin: author.origin,
            identityId,
            sessionId: null,
            data: { reason, sessions_ended: sessionsEnded },
          })}`
        return { newly: identity.newly, sessionsEnded }
      })
    },

    unsuspend(identityId, author) {
      return sql.begin(async (tx) => {
        const lifted = await tx`
          update attune.identity set suspended_at = null, suspended_reason = null, updated = now()
          where id = ${identityId} and suspended_at is not null`
        if (lifted.count === 0) return (await exists(tx, identityId)) ? false : undefined
        await tx`${recordEvent(tx, {
          type: 'identity.unsuspended',
          outcome: 'success',
          actor: author.actor,
          origin: author.origin,
          identityId,
          sessionId: null,
        })}`
        return true
      })
    },

    endSessions(identityId, author) {
      return sql.begin(async (tx) => ((await exists(tx, identityId)) ? endAll(tx, identityId, 'ended_by_admin', author) : undefined))
    },
  }
}
