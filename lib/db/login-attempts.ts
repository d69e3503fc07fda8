/**
 * A login attempt's first statement: it counts the attempt against the source address and the account
 * (lib/db/throttle.ts) and reads the identity, in one round trip, before any Argon2. The account counter is
 * not touched when the address is refused. Its second statement, on the right password only, opens the
 * session and gives the counts back (lib/db/sessions.ts `open`); a wrong password needs no statement at
 * all: it was counted in advance. So a login costs at most two round trips, and a refused one one.
 */
import type { Origin } from '../audit/events.js'
import { SYSTEM } from '../audit/events.js'
import type { ThrottleConfig } from '../config.js'
import { recordEvents } from './audit.js'
import type { Sql } from './client.js'
import type { Identity, IdentityRow } from './identities.js'
import { IDENTITY_COLUMNS, toIdentity } from './identities.js'
import type { AlsoWhenOpened } from './sessions.js'
import type { ThrottleRow, ThrottleState } from './throttle.js'
import { countAttempt, maximumWaitAt, refundAttempt, resetAttempts, toThrottleState } from './throttle.js'

export interface LoginAttemptKeys {
  loginKey: string
  account: Uint8Array
  address: Uint8Array
}

export interface LoginAttempt {
  /** Undefined for a login that does not exist: counted all the same. */
  identity: Identity | undefined
  /** The identity has an active second factor: the right password opens a challenge, not a session. */
  secondFactor: boolean
  account: ThrottleState
  address: ThrottleState
}

export interface LoginAttemptRepository {
  /**
   * Counts the attempt (from `origin`). The attempt that uses up an existing account's free attempts records
   * `login.throttled`, the one whose wait reaches the maximum `account.locked`, in the same statement.
   */
  begin(keys: LoginAttemptKeys, origin: Origin): Promise<LoginAttempt>
  /** What `sessions.open` runs with the session it opens: a success resets the account and refunds the address. */
  onSuccess(keys: LoginAttemptKeys): AlsoWhenOpened[]
}

type Row = Partial<IdentityRow> & {
  second_factor: boolean
  address_allowed: boolean
  address_failures: number
  address_retry_after: number
  account_allowed: boolean
  account_failures: number
  account_retry_after: number
}

export function createLoginAttemptRepository(sql: Sql, policy: ThrottleConfig): LoginAttemptRepository {
  return {
    async begin(keys, origin) {
      const reached = (failures: number) => sql`
        select i.id as identity_id, null::uuid as session_id, jsonb_build_object('failures', c.failures) as data
        from account c join attune.identity i on i.login_key = ${keys.loginKey}
        where c.allowed and c.failures = ${failures}`
      const [row] = await sql<Row[]>`
        with address as (${countAttempt(sql, keys.address, policy.address)}),
        account as (${countAttempt(sql, keys.account, policy.account, sql`select case when allowed then 1 else 0 end from address`)}),
        throttled as (${recordEvents(sql, { type: 'login.throttled', outcome: 'failure', actor: SYSTEM, origin }, reached(policy.account.free))}),
        locked as (${recordEvents(sql, { type: 'account.locked', outcome: 'failure', actor: SYSTEM, origin }, reached(maximumWaitAt(policy.account)))})
        select a.allowed as address_allowed, a.failures as address_failures, a.retry_after as address_retry_after,
               c.allowed as account_allowed, c.failures as account_failures, c.retry_after as account_retry_after,
               ${sql(IDENTITY_COLUMNS.map((column) => `i.${column}`))},
               exists (select 1 from attune.mfa_factor f where f.identity_id = i.id and f.status = 'active') as second_factor
        from address a cross join account c
        -- A suspended account answers as an unknown login: its password is not checked against it.
        left join attune.identity i on i.login_key = ${keys.loginKey} and i.suspended_at is null`
      if (!row) throw new Error('the login attempt statement answered no row')
      const state = (prefix: 'address' | 'account'): ThrottleState =>
        toThrottleState({
          allowed: row[`${prefix}_allowed`],
          failures: row[`${prefix}_failures`],
          retry_after: row[`${prefix}_retry_after`],
        } as ThrottleRow)
      return {
        identity: row.id === null || row.id === undefined ? undefined : toIdentity(row as IdentityRow),
        account: state('account'),
        address: state('address'),
        secondFactor: row.second_factor === true,
      }
    },
    onSuccess(keys) {
      return [(opened) => resetAttempts(sql, keys.account, opened), (opened) => refundAttempt(sql, keys.address, opened)]
    },
  }
}
