/**
 * Throttle counters in PostgreSQL (`attune.throttle`): Lambda containers share nothing in memory, so every
 * count lives in one row per key, changed by one `insert ... on conflict do update ... returning` (the shape
 * of rate-limiter-flexible's PostgreSQL store, which needs node-postgres and a timer). An attempt is counted
 * BEFORE the work it guards (Argon2), in the same statement that decides whether it may go on: parallel
 * requests serialise on the row lock and can never get more attempts through than the policy allows.
 *
 * Two kinds of policy:
 * - backoff (per account): `free` failures, then a wait doubling from 1 s up to `maxDelay` before each next
 *   attempt; the count starts over after `quiet` seconds without a failure, counted from the end of the
 *   current wait; a success resets it. No lock outlives `maxDelay`.
 * - window (per source address): at most `limit` counted attempts per `window` seconds; reaching it blocks
 *   the key for `block` seconds.
 * A refused attempt changes nothing (it is not counted again, and does not extend the quiet period).
 */
import type { BackoffPolicy, ThrottlePolicy } from '../config.js'
import type { Fragment, Queryable, Sql } from './client.js'

/** What one counted (or refused) attempt left behind. */
export interface ThrottleState {
  /** The attempt was counted and may go on. */
  allowed: boolean
  /** Failures counted so far in this run or window (this attempt included when allowed). */
  failures: number
  /** Seconds until an attempt is allowed again; 0 when one is allowed now. */
  retryAfter: number
}

export interface ThrottleRow {
  allowed: boolean
  failures: number
  retry_after: number
}

const SECONDS = (sql: Queryable, seconds: number | Fragment) => sql`make_interval(secs => ${seconds})`

/**
 * SQL: count one attempt on `key` under `policy` (`increment`: 1, or an expression that is 0 when the attempt
 * is refused elsewhere), returning `allowed`, `failures` and `retry_after`. A CTE body.
 */
export function countAttempt(sql: Queryable, key: Uint8Array, policy: ThrottlePolicy, increment: Fragment | number = 1): Fragment {
  const inc = typeof increment === 'number' ? sql`${increment}::int` : sql`(${increment})`
  const returning = sql`
    returning t.failures, (t.touched = now()) as allowed,
      greatest(0, ceil(extract(epoch from t.blocked_until - now())))::int as retry_after`
  if (policy.kind === 'backoff') {
    const free = policy.free
    const wait = (failures: Fragment) =>
      sql`case when ${failures} >= ${free} then now() + ${SECONDS(sql, sql`least(power(2, ${failures} - ${free}), ${policy.maxDelaySeconds})`)} end`
    return sql`
      insert into attune.throttle as t (key, failures, window_start, blocked_until, touched)
      values (${key}, ${inc}, now(), ${wait(inc)}, now())
      on conflict (key) do update set (failures, blocked_until, touched) = (
        select case when x.blocked then t.failures else x.base + ${inc} end,
               case when x.blocked then t.blocked_until else ${wait(sql`x.base + ${inc}`)} end,
               case when x.blocked or ${inc} = 0 then t.touched else now() end
        from (
          select not q.stale and coalesce(t.blocked_until > now(), false) as blocked, case when q.stale then 0 else t.failures end as base
          from (select now() >= greatest(t.touched, coalesce(t.blocked_until, t.touched)) + ${SECONDS(sql, policy.quietSeconds)} as stale) q
        ) x
      )
      ${returning}`
  }
  const block = (failures: Fragment) => sql`case when ${failures} >= ${policy.limit} then now() + ${SECONDS(sql, policy.blockSeconds)} end`
  return sql`
    insert into attune.throttle as t (key, failures, window_start, blocked_until, touched)
    values (${key}, ${inc}, now(), ${block(inc)}, now())
    on conflict (key) do update set (failures, window_start, blocked_until, touched) = (
      select case when x.blocked then t.failures else x.base + ${inc} end,
             case when x.blocked or not x.fresh then t.window_start else now() end,
             case when x.blocked then t.blocked_until else ${block(sql`x.base + ${inc}`)} end,
             case when x.blocked or ${inc} = 0 then t.touched else now() end
      from (
        select coalesce(t.blocked_until > now(), false) as blocked,
               now() >= t.window_start + ${SECONDS(sql, policy.windowSeconds)} as fresh,
               case when now() >= t.window_start + ${SECONDS(sql, policy.windowSeconds)} then 0 else t.failures end as base
      ) x
    )
    ${returning}`
}

/** SQL: a success on `key` clears its failures and any wait (backoff: "a success resets"), `when` it holds. A CTE body. */
/** The failure count at which a backoff policy's wait first reaches its maximum (`maxDelaySeconds`). */
export function maximumWaitAt(policy: BackoffPolicy): number {
  return policy.free + Math.max(0, Math.ceil(Math.log2(policy.maxDelaySeconds)))
}

export function resetAttempts(sql: Queryable, key: Uint8Array, when: Fragment = sql`true`): Fragment {
  return sql`update attune.throttle set failures = 0, blocked_until = null where key = ${key} and ${when}`
}

/** SQL: give back one counted attempt on `key` (a success is not a failure), `when` it holds. A CTE body. */
export function refundAttempt(sql: Queryable, key: Uint8Array, when: Fragment = sql`true`): Fragment {
  return sql`update attune.throttle set failures = greatest(failures - 1, 0) where key = ${key} and ${when}`
}

export const toThrottleState = (row: ThrottleRow | undefined): ThrottleState => ({
  allowed: row?.allowed === true,
  failures: row?.failures ?? 0,
  retryAfter: row?.allowed ? 0 : Math.max(1, row?.retry_after ?? 1),
})

export interface ThrottleRepository {
  /** Counts one attempt on `key` (one statement). */
  count(key: Uint8Array, policy: ThrottlePolicy): Promise<ThrottleState>
  reset(key: Uint8Array): Promise<void>
  /** Deletes rows not touched for `hours` whose wait has ended; answers how many. */
  purgeIdle(hours: number): Promise<number>
}

export function createThrottleRepository(sql: Sql): ThrottleRepository {
  return {
    async count(key, policy) {
      const [row] = await sql<ThrottleRow[]>`with counted as (${countAttempt(sql, key, policy)}) select * from counted`
      return toThrottleState(row)
    },
    async reset(key) {
      await sql`${resetAttempts(sql, key)}`
    },
    async purgeIdle(hours) {
      const result = await sql`
        delete from attune.throttle
        where touched < now() - make_interval(hours => ${hours}) and (blocked_until is null or blocked_until < now())`
      return result.count
    },
  }
}
