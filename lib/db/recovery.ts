/**
 * Password recovery in SQL (README "Email and password reset"):
 * - `find` counts the request against its source address and finds the account, by login or by verified
 *   email, in one statement;
 * - `requestReset` is one statement whatever was found: per-account mail limits, the token (replacing any
 *   earlier one), the outbox row and the audit row, all conditional on an account with a verified address
 *   that the limits allow (so its time does not say whether the account exists);
 * - `completeReset` is one transaction: the token is consumed first (deleted, so it works once), then the
 *   password replaced, every session ended, the login throttle cleared, the audit row and the notice queued.
 */
import type { Origin } from '../audit/events.js'
import { USER } from '../audit/events.js'
import type { SessionPolicy, ThrottlePolicy, WindowPolicy } from '../config.js'
import type { EmailToken } from '../email/tokens.js'
import { recordEvent, recordEvents } from './audit.js'
import type { Sql } from './client.js'
import { queueMail } from './outbox.js'
import { endSessions } from './sessions.js'
import type { ThrottleState } from './throttle.js'
import { countAttempt, toThrottleState } from './throttle.js'

/** An account that can be sent a reset: it has a verified address. */
export interface RecoveryTarget {
  identityId: number
  email: string
}

export interface RecoveryLookup {
  /** The canonical key of what was typed, if it is a valid login. */
  loginKey: string | null
  /** What was typed, if it is an email address. */
  email: string | null
}

export interface ResetRequest {
  /** Undefined: nobody to mail; the statement runs all the same and changes nothing. */
  target: RecoveryTarget | undefined
  token: EmailToken
  link: string
  ttlSeconds: number
  /** The per-account limits and their keys (for no target: stand-in keys, counted by 0). */
  limits: { minute: { key: Uint8Array; policy: WindowPolicy }; hourly: { key: Uint8Array; policy: WindowPolicy } }
  origin: Origin
}

/** The account a live reset token is for, as the new password's rules need it. */
export interface ResetAccount {
  identityId: number
  login: string
  loginKey: string
  displayName: string | null
}

export interface ResetCompletion {
  tokenHash: Uint8Array
  passwordHash: string
  /** The throttle counters that a successful reset clears (the login's, the identity's). */
  throttleKeys: Uint8Array[]
  origin: Origin
}

export type ResetOutcome = { outcome: 'reset'; sessionsEnded: number } | { outcome: 'invalid' }

export interface RecoveryRepository {
  find(addressKey: Uint8Array, policy: ThrottlePolicy, lookup: RecoveryLookup): Promise<{ address: ThrottleState; target?: RecoveryTarget }>
  /** True when a mail was queued. */
  requestReset(request: ResetRequest): Promise<boolean>
  /** The account of a live reset token, without consuming it (the new password is checked first). */
  peekReset(tokenHash: Uint8Array): Promise<ResetAccount | undefined>
  completeReset(completion: ResetCompletion): Promise<ResetOutcome>
  /** Deletes expired email tokens (of every purpose); answers how many. */
  purgeExpiredTokens(): Promise<number>
}

/** Thrown inside the reset transaction to roll it back; never leaves this module. */
class InvalidToken extends Error {}

export function createRecoveryRepository(sql: Sql, sessions: SessionPolicy): RecoveryRepository {
  return {
    async find(addressKey, policy, { loginKey, email }) {
      const [row] = await sql<{ allowed: boolean; failures: number; retry_after: number; id: string | null; email: string | null }[]>`
        with address as (${countAttempt(sql, addressKey, policy)})
        select a.allowed, a.failures, a.retry_after, t.id, t.email
        from address a
        left join lateral (
          select i.id, i.email from attune.identity i
          where a.allowed and i.email is not null
            and (i.login_key = ${loginKey}::text or lower(i.email) = lower(${email}::text))
          order by (i.login_key = ${loginKey}::text) desc nulls last
          limit 1
        ) t on true`
      if (!row) throw new Error('the recovery lookup answered no row')
      const address = toThrottleState(row)
      return row.id === null || row.email === null ? { address } : { address, target: { identityId: Number(row.id), email: row.email } }
    },

    async requestReset({ target, token, link, ttlSeconds, limits, origin }) {
      const one = target ? 1 : 0
      const [row] = await sql<{ queued: boolean }[]>`
        with minute as (${countAttempt(sql, limits.minute.key, limits.minute.policy, one)}),
        hourly as (${countAttempt(sql, limits.hourly.key, limits.hourly.policy, sql`select case when allowed then ${one}::int else 0 end from minute`)}),
        go as (
          select ${target?.identityId ?? null}::bigint as identity_id
          where ${target !== undefined} and (select allowed from minute) and (select allowed from hourly)
        ),
        token as (
          insert into attune.email_token (token_hash, identity_id, purpose, email, expires)
          select ${token.hash}, go.identity_id, 'password_reset', ${target?.email ?? ''}, now() + make_interval(secs => ${ttlSeconds})
          from go
          on conflict (identity_id, purpose) do update
            set token_hash = excluded.token_hash, email = excluded.email, created = now(), expires = excluded.expires
          returning identity_id
        ),
        mail as (${queueMail(
          sql,
          { template: 'password_reset', recipient: target?.email ?? '', data: { link, expires_minutes: Math.round(ttlSeconds / 60) } },
          sql`exists (select 1 from token)`,
        )}),
        audit as (${recordEvents(
          sql,
          { type: 'password.reset_requested', outcome: 'success', actor: USER, origin },
          sql`select identity_id, null::uuid as session_id, '{}'::jsonb as data from token`,
        )})
        select exists (select 1 from mail) as queued`
      return row?.queued === true
    },

    async peekReset(tokenHash) {
      const [row] = await sql<{ id: string; login: string; login_key: string; display_name: string | null }[]>`
        select i.id, i.login, i.login_key, i.display_name
        from attune.email_token t join attune.identity i on i.id = t.identity_id
        where t.token_hash = ${tokenHash} and t.purpose = 'password_reset' and t.expires > now()`
      return row && { identityId: Number(row.id), login: row.login, loginKey: row.login_key, displayName: row.display_name }
    },

    async purgeExpiredTokens() {
      const result = await sql`delete from attune.email_token where expires < now()`
      return result.count
    },

    async completeReset({ tokenHash, passwordHash, throttleKeys, origin }) {
      try {
        return await sql.begin(async (tx) => {
          // Consumed first: of two resets racing with one token, only one finds it.
          const [consumed] = await tx<{ identity_id: string; email: string }[]>`
            delete from attune.email_token
            where token_hash = ${tokenHash} and purpose = 'password_reset' and expires > now()
            returning identity_id, email`
          if (!consumed) throw new InvalidToken()
          const identityId = Number(consumed.identity_id)
          await tx`
            update attune.identity
            set password_hash = ${passwordHash}, credentials_version = credentials_version + 1, updated = now()
            where id = ${identityId}`
          const sessionsEnded = await endSessions(tx, sessions, tx`s.identity_id = ${identityId}`, 'password_reset', {
            actor: USER,
            origin,
          })
          await tx`delete from attune.throttle where key in ${tx(throttleKeys.map((key) => Buffer.from(key)))}`
          await recordEvent(tx, {
            type: 'password.reset_completed',
            outcome: 'success',
            actor: USER,
            origin,
            identityId,
            sessionId: null,
            data: { sessions_ended: sessionsEnded },
          })
          await queueMail(tx, { template: 'password_changed', recipient: consumed.email, data: {} })
          return { outcome: 'reset' as const, sessionsEnded }
        })
      } catch (error) {
        if (error instanceof InvalidToken) return { outcome: 'invalid' }
        throw error
      }
    },
  }
}
