/**
 * The session repository: `attune.session`. Every register/login opens a session; its refresh token is
 * single-use, and redeeming it is one atomic statement (row lock, then exactly one of: rotate, answer
 * the same successor within the grace window, or revoke the session as a replay).
 *
 * What "active" means is written once (`activeSession`): not revoked, not past its idle expiry, and
 * younger than the policy's maximum age. A session's `expires` is also capped at `created + maxAge` when
 * it is opened or refreshed, so refreshing every few seconds cannot keep one alive for ever.
 */
import type { Actor, Origin } from '../audit/events.js'
import { SYSTEM, systemOrigin, USER } from '../audit/events.js'
import type { SessionPolicy } from '../config.js'
import type { Acr, Assurance, IssuedClaims } from '../tokens/claims.js'
import { endReason, recordEvents } from './audit.js'
import type { Fragment, Queryable, Sql } from './client.js'
import { grantsColumns, toIssuedGrants } from './grants.js'
import type { SessionLookup } from './session-lookup.js'
import { activeSession, createSessionLookup } from './session-lookup.js'

/** GET /auth/sessions lists at most this many (the most recently used). */
export const MAX_LISTED_SESSIONS = 100

/** Rows deleted per statement by `purgeEnded`, so one cleanup never holds a long lock or a huge WAL burst. */
export const PURGE_BATCH = 5000

/** A session about to open: its ids, its first refresh token's, and where it is opened from (the request, for its audit events). */
export interface SessionOpening extends Origin {
  id: string
  refreshTokenId: string
  refreshIssuedAt: number
}

export interface NewSession extends SessionOpening {
  identityId: number
  /** How the user authenticated: a password alone (aal1, ['pwd']) or with a second factor (aal2). */
  assurance: Pick<Assurance, 'acr' | 'amr'>
  /** The identity's `credentials_version` that the login verified: the session opens only if it is still current. */
  credentialsVersion: number
}

export interface SessionInfo {
  id: string
  created: Date
  lastUsed: Date
  userAgent: string | null
  sourceIp: string | null
}

export type RotateOutcome =
  /** The presented token was current: it is retired and `refreshTokenId` is its successor. */
  | { outcome: 'rotated'; refreshTokenId: string; refreshIssuedAt: number; claims: IssuedClaims }
  /** The presented token was retired moments ago: the same successor is answered again. */
  | { outcome: 'grace'; refreshTokenId: string; refreshIssuedAt: number; claims: IssuedClaims }
  /** An older token of the session was replayed: the whole session is now revoked. */
  | { outcome: 'reused' }
  /** No such active session of this identity. */
  | { outcome: 'ended' }

export interface RotateRequest {
  identityId: number
  sessionId: string
  presentedTokenId: string
  next: { refreshTokenId: string; refreshIssuedAt: number }
  graceSeconds: number
  /** The refresh request, for the audit events of a replay. */
  origin: Origin
}

export type RevokeReason =
  | 'logout'
  | 'logout_all'
  | 'logout_others'
  | 'ended_by_user'
  | 'password_changed'
  | 'refresh_token_reused'
  | 'session_limit'
  | 'password_guessing'
  | 'password_reset'
  | 'mfa_enabled'
  | 'ended_by_admin'
  | 'suspended'

/** A statement to run in the same statement as a session opening, given the SQL condition "it opened" (e.g. resetting a throttle counter). */
export type AlsoWhenOpened = (opened: Fragment) => Fragment

export interface SessionRepository extends SessionLookup {
  /**
   * Opens a session, in one statement: only while the identity's credentials are still at
   * `credentialsVersion` (undefined otherwise: the password changed after it was verified); ends the oldest
   * active sessions beyond the policy's `maxPerIdentity`. Answers the identity's grants for its tokens.
   */
  open(session: NewSession, also?: AlsoWhenOpened[]): Promise<IssuedClaims | undefined>
  rotate(request: RotateRequest): Promise<RotateOutcome>
  listActive(identityId: number): Promise<SessionInfo[]>
  /** Revokes one active session of the identity, at its own request; false when there was no such active session. */
  revoke(identityId: number, sessionId: string, reason: RevokeReason, origin: Origin): Promise<boolean>
  /** Revokes the identity's active sessions, except `keep`, at its own request; answers how many ended. */
  revokeAll(identityId: number, reason: RevokeReason, origin: Origin, keep?: string): Promise<number>
  /**
   * Deletes sessions that ended or expired more than the policy's `retentionDays` ago; answers how many. A
   * session that expired without being ended gets its `session.ended` (reason `expired`) as it goes.
   * `requestId`: the maintenance function's.
   */
  purgeEnded(requestId: string | null): Promise<number>
}

/** SQL: the expiry of a session of alias `alias` refreshed now: the idle lifetime, but never past its maximum age. */
export function refreshedExpiry(sql: Queryable, policy: SessionPolicy, alias: string) {
  return sql`least(now() + make_interval(secs => ${policy.idleLifetime}), ${sql(alias)}.created + make_interval(secs => ${policy.maxAge}))`
}

/**
 * SQL: the one session insert, for the identity in the CTE `owner` (a CTE with an `id` column): opened now,
 * expiring after the idle lifetime or the maximum age, whichever is shorter. Returns the session's `id`.
 */
export function insertSession(
  sql: Queryable,
  policy: SessionPolicy,
  s: SessionOpening & { assurance: Pick<Assurance, 'acr' | 'amr'> },
  owner: string,
) {
  return sql`
    insert into attune.session (id, identity_id, refresh_jti, refresh_iat, user_agent, source_ip, expires, acr, amr)
    select ${s.id}, o.id, ${s.refreshTokenId}, ${s.refreshIssuedAt}, ${s.userAgent}, ${s.sourceIp},
           now() + make_interval(secs => ${Math.min(policy.idleLifetime, policy.maxAge)}), ${s.assurance.acr}, ${s.assurance.amr as string[]}
    from ${sql(owner)} o
    returning id, identity_id, ${assuranceColumns(sql, 'session')}`
}

/** SQL: the assurance columns of the session row aliased `alias`: `acr`, `amr`, `auth_time` (epoch seconds). */
export function assuranceColumns(sql: Queryable, alias: string) {
  const t = sql(alias)
  // Floored, never rounded: a sign-in is never reported as later than it was (RFC 9470's max_age checks).
  return sql`${t}.acr, ${t}.amr, floor(extract(epoch from ${t}.auth_time))::bigint as auth_time`
}

export interface AssuranceRow {
  acr: Acr
  amr: string[]
  auth_time: string | number
}

/** A statement's grants and assurance columns as an access token's claims. */
export const toIssuedClaims = (row: AssuranceRow & { authz_version: string | number; permissions: string[] }): IssuedClaims => ({
  ...toIssuedGrants(row),
  acr: row.acr,
  amr: row.amr,
  authTime: Number(row.auth_time),
})

/** How a session was opened, as its `session.created` says. */
export type SignInMethod = 'password' | 'registration' | 'mfa' | 'provider'

/** The method of a sign-in with this assurance: a second factor, else a provider (amr `fed`), else a password. */
export const signInMethodOf = ({ acr, amr }: Pick<Assurance, 'acr' | 'amr'>): SignInMethod =>
  acr === 'aal2' ? 'mfa' : amr.includes('fed') ? 'provider' : 'password'

/** SQL: the `session.created` event of the sessions in the CTE `opened` (from `insertSession`). */
export function recordOpened(sql: Queryable, s: SessionOpening, method: SignInMethod, opened: string) {
  return recordEvents(
    sql,
    { type: 'session.created', outcome: 'success', actor: USER, origin: s },
    sql`select o.identity_id, o.id as session_id, jsonb_build_object('method', ${method}::text) as data from ${sql(opened)} o`,
  )
}

/** SQL: the `session.ended` events of the sessions in the CTE `ended` (columns `id`, `identity_id`), ended at the identity's request or by a rule. */
export function recordEnded(sql: Queryable, reason: RevokeReason, origin: Origin, ended: string) {
  return recordEndedBy(sql, reason, USER, origin, ended)
}

/** SQL: `recordEnded`, by `actor` (the identity itself, or an administrator). */
function recordEndedBy(sql: Queryable, reason: RevokeReason, actor: Actor, origin: Origin, ended: string) {
  return recordEvents(
    sql,
    { type: 'session.ended', outcome: 'success', actor, origin },
    sql`select e.identity_id, e.id as session_id, ${endReason(sql, reason)} as data from ${sql(ended)} e`,
  )
}

/**
 * Ends the active sessions (alias `s`) that `which` selects, each with its `session.ended` for `reason` by `actor`,
 * in one statement on `sql` (a transaction's, where the caller has one); answers how many.
 */
export async function endSessions(
  sql: Queryable,
  policy: SessionPolicy,
  which: Fragment,
  reason: RevokeReason,
  { actor, origin }: { actor: Actor; origin: Origin },
): Promise<number> {
  const [row] = await sql<{ ended: number }[]>`
    with ended as (
      update attune.session s set revoked = now(), revoked_reason = ${reason}
      where ${which} and ${activeSession(sql, policy, 's')}
      returning s.id, s.identity_id
    ), recorded as (${recordEndedBy(sql, reason, actor, origin, 'ended')})
    select count(*)::int as ended from ended`
  return row?.ended ?? 0
}

interface RotateRow extends AssuranceRow {
  outcome: 'rotated' | 'grace' | 'reused' | 'ended'
  refresh_jti: string | null
  refresh_iat: string | null
  authz_version: string
  permissions: string[]
}

export function createSessionRepository(sql: Sql, policy: SessionPolicy): SessionRepository {
  const active = (alias: string) => activeSession(sql, policy, alias)

  /** Revokes the active sessions `s` that `which` selects at the identity's request; answers how many. */
  const revokeWhere = (reason: RevokeReason, origin: Origin, which: Fragment): Promise<number> =>
    endSessions(sql, policy, which, reason, { actor: USER, origin })

  return {
    async open(s, also = []) {
      const opened = sql`exists (select 1 from opened)`
      // The identity row is read FOR SHARE: a password change or a suspension (which update it) either committed
      // before, and the version no longer matches, or waits until this session exists, and then ends it.
      const [row] = await sql<({ opened: boolean; authz_version: string; permissions: string[] } & AssuranceRow)[]>`
        with owner as (
          select id from attune.identity
          where id = ${s.identityId} and credentials_version = ${s.credentialsVersion} and suspended_at is null
          for share
        ), opened as (${insertSession(sql, policy, s, 'owner')}
        ), capped as (
          update attune.session t set revoked = now(), revoked_reason = 'session_limit'
          where t.id in (
            select o.id from attune.session o
            where o.identity_id = ${s.identityId} and ${active('o')}
            order by o.created desc, o.id desc
            offset ${policy.maxPerIdentity - 1}
          ) and exists (select 1 from opened)
          returning t.id, t.identity_id
        ), opened_event as (${recordOpened(sql, s, signInMethodOf(s.assurance), 'opened')}
        ), capped_events as (${recordEnded(sql, 'session_limit', s, 'capped')}
        )${also.reduce((more, statement, i) => sql`${more}, ${sql(`also_${i}`)} as (${statement(opened)})`, sql``)}
        select exists (select 1 from opened) as opened, o.acr, o.amr, o.auth_time, ${grantsColumns(sql, s.identityId)}
        from (select 1) one left join opened o on true`
      return row?.opened === true ? toIssuedClaims(row) : undefined
    },

    async rotate(r) {
      // One statement: lock the session row, then at most one of the two updates applies.
      // Under READ COMMITTED a waiting request sees the row as the winner left it, so N parallel
      // refreshes of one token give one rotation and N-1 answers of the same successor.
      // The session must belong to the token's subject: a token naming another identity's session finds none.
      const [row] = await sql<RotateRow[]>`
        with s as (
          select s.id, s.refresh_jti, s.refresh_iat, s.previous_jti, s.rotated, (${active('s')}) as active, ${assuranceColumns(sql, 's')}
          from attune.session s
          where s.id = ${r.sessionId} and s.identity_id = ${r.identityId}
          for update of s
        ),
        rotated as (
          update attune.session t
          set previous_jti = t.refresh_jti, refresh_jti = ${r.next.refreshTokenId}, refresh_iat = ${r.next.refreshIssuedAt},
              rotated = now(), last_used = now(), expires = ${refreshedExpiry(sql, policy, 't')}
          from s
          where t.id = s.id and s.active and s.refresh_jti = ${r.presentedTokenId}
          returning t.refresh_jti, t.refresh_iat
        ),
        reused as (
          update attune.session t
          set revoked = now(), revoked_reason = 'refresh_token_reused'
          from s
          where t.id = s.id and s.active and s.refresh_jti <> ${r.presentedTokenId}
            and not (s.previous_jti is not distinct from ${r.presentedTokenId}::uuid
                     and s.rotated > now() - make_interval(secs => ${r.graceSeconds}))
          returning t.id, t.identity_id
        ),
        reuse_detected as (${recordEvents(
          sql,
          { type: 'refresh.reuse_detected', outcome: 'failure', actor: USER, origin: r.origin },
          sql`select identity_id, id as session_id, '{}'::jsonb as data from reused`,
        )}),
        reuse_ended as (${recordEnded(sql, 'refresh_token_reused', r.origin, 'reused')})
        select
          case
            when not coalesce(s.active, false) then 'ended'
            when exists (select 1 from rotated) then 'rotated'
            when exists (select 1 from reused) then 'reused'
            else 'grace'
          end as outcome,
          coalesce((select refresh_jti from rotated), s.refresh_jti) as refresh_jti,
          coalesce((select refresh_iat from rotated), s.refresh_iat) as refresh_iat,
          s.acr, s.amr, s.auth_time,
          ${grantsColumns(sql, r.identityId)}
        from (select 1) one left join s on true`
      if (!row || row.outcome === 'ended') return { outcome: 'ended' }
      if (row.outcome === 'reused') return { outcome: 'reused' }
      return {
        outcome: row.outcome,
        refreshTokenId: row.refresh_jti as string,
        refreshIssuedAt: Number(row.refresh_iat),
        claims: toIssuedClaims(row),
      }
    },

    ...createSessionLookup(sql, policy),

    async listActive(identityId) {
      const rows = await sql<{ id: string; created: Date; last_used: Date; user_agent: string | null; source_ip: string | null }[]>`
        select s.id, s.created, s.last_used, s.user_agent, s.source_ip from attune.session s
        where s.identity_id = ${identityId} and ${active('s')}
        order by s.last_used desc, s.created desc
        limit ${MAX_LISTED_SESSIONS}`
      return rows.map((r) => ({ id: r.id, created: r.created, lastUsed: r.last_used, userAgent: r.user_agent, sourceIp: r.source_ip }))
    },

    async revoke(identityId, sessionId, reason, origin) {
      return (await revokeWhere(reason, origin, sql`s.id = ${sessionId} and s.identity_id = ${identityId}`)) === 1
    },

    async revokeAll(identityId, reason, origin, keep) {
      return revokeWhere(reason, origin, sql`s.identity_id = ${identityId} ${keep === undefined ? sql`` : sql`and s.id <> ${keep}`}`)
    },

    async purgeEnded(requestId) {
      let total = 0
      for (;;) {
        const [row] = await sql<{ deleted: number }[]>`
          with deleted as (
            delete from attune.session where id in (
              select id from attune.session
              where revoked < now() - make_interval(days => ${policy.retentionDays})
                 or expires < now() - make_interval(days => ${policy.retentionDays})
              limit ${PURGE_BATCH}
            )
            returning id, identity_id, revoked, expires
          ), expired as (${recordEvents(
            sql,
            { type: 'session.ended', outcome: 'success', actor: SYSTEM, origin: systemOrigin(requestId) },
            sql`select identity_id, id as session_id, jsonb_build_object('reason', 'expired', 'expired_at', expires) as data
                from deleted where revoked is null`,
          )})
          select count(*)::int as deleted from deleted`
        const deleted = row?.deleted ?? 0
        total += deleted
        if (deleted < PURGE_BATCH) return total
      }
    },
  }
}
