/**
 * The session repository: `attune.session`. Every register/login opens a session; its refresh token is
 * single-use, and redeeming it is one atomic statement (row lock, then exactly one of: rotate, answer
 * the same successor within the grace window, or revoke the session as a replay).
 */
import type { Sql } from './client.js'

/** GET /auth/sessions lists at most this many (the most recently used). */
export const MAX_LISTED_SESSIONS = 100

export interface NewSession {
  id: string
  identityId: number
  refreshTokenId: string
  refreshIssuedAt: number
  /** Seconds until the session ends unless refreshed (the refresh token's lifetime). */
  lifetime: number
  userAgent: string | null
  sourceIp: string | null
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
  | { outcome: 'rotated'; identityId: number; login: string; refreshTokenId: string; refreshIssuedAt: number }
  /** The presented token was retired moments ago: the same successor is answered again. */
  | { outcome: 'grace'; identityId: number; login: string; refreshTokenId: string; refreshIssuedAt: number }
  /** An older token of the session was replayed: the whole session is now revoked. */
  | { outcome: 'reused' }
  /** No such session, or it has ended. */
  | { outcome: 'ended' }

export interface RotateRequest {
  sessionId: string
  presentedTokenId: string
  next: { refreshTokenId: string; refreshIssuedAt: number }
  lifetime: number
  graceSeconds: number
}

export type RevokeReason = 'logout' | 'logout_all' | 'logout_others' | 'ended_by_user' | 'password_changed' | 'refresh_token_reused'

export interface SessionRepository {
  create(session: NewSession): Promise<void>
  rotate(request: RotateRequest): Promise<RotateOutcome>
  /** True when the session exists, is not revoked and has not expired: the authorizer's one indexed lookup. */
  isActive(sessionId: string): Promise<boolean>
  listActive(identityId: number): Promise<SessionInfo[]>
  /** Revokes one session of the identity; false when there was no such active session. */
  revoke(identityId: number, sessionId: string, reason: RevokeReason): Promise<boolean>
  /** Revokes the identity's active sessions, except `keep`; answers how many ended. */
  revokeAll(identityId: number, reason: RevokeReason, keep?: string): Promise<number>
}

interface RotateRow {
  outcome: 'rotated' | 'grace' | 'reused' | 'ended'
  identity_id: string | null
  login: string | null
  refresh_jti: string | null
  refresh_iat: string | null
}

export function createSessionRepository(sql: Sql): SessionRepository {
  return {
    async create(s) {
      await sql`
        insert into attune.session (id, identity_id, refresh_jti, refresh_iat, user_agent, source_ip, expires)
        values (${s.id}, ${s.identityId}, ${s.refreshTokenId}, ${s.refreshIssuedAt}, ${s.userAgent}, ${s.sourceIp},
                now() + make_interval(secs => ${s.lifetime}))`
    },

    async rotate(r) {
      // One statement: lock the session row, then at most one of the two updates applies.
      // Under READ COMMITTED a waiting request sees the row as the winner left it, so N parallel
      // refreshes of one token give one rotation and N-1 answers of the same successor.
      const [row] = await sql<RotateRow[]>`
        with s as (
          select s.id, s.refresh_jti, s.refresh_iat, s.previous_jti, s.rotated, s.identity_id, i.login,
                 (s.revoked is null and s.expires > now()) as active
          from attune.session s join attune.identity i on i.id = s.identity_id
          where s.id = ${r.sessionId}
          for update of s
        ),
        rotated as (
          update attune.session t
          set previous_jti = t.refresh_jti, refresh_jti = ${r.next.refreshTokenId}, refresh_iat = ${r.next.refreshIssuedAt},
              rotated = now(), last_used = now(), expires = now() + make_interval(secs => ${r.lifetime})
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
          returning t.id
        )
        select
          case
            when not coalesce(s.active, false) then 'ended'
            when exists (select 1 from rotated) then 'rotated'
            when exists (select 1 from reused) then 'reused'
            else 'grace'
          end as outcome,
          s.identity_id, s.login,
          coalesce((select refresh_jti from rotated), s.refresh_jti) as refresh_jti,
          coalesce((select refresh_iat from rotated), s.refresh_iat) as refresh_iat
        from (select 1) one left join s on true`
      if (!row || row.outcome === 'ended') return { outcome: 'ended' }
      if (row.outcome === 'reused') return { outcome: 'reused' }
      return {
        outcome: row.outcome,
        identityId: Number(row.identity_id),
        login: row.login as string,
        refreshTokenId: row.refresh_jti as string,
        refreshIssuedAt: Number(row.refresh_iat),
      }
    },

    async isActive(sessionId) {
      const [row] = await sql`
        select 1 from attune.session where id = ${sessionId} and revoked is null and expires > now()`
      return row !== undefined
    },

    async listActive(identityId) {
      const rows = await sql<{ id: string; created: Date; last_used: Date; user_agent: string | null; source_ip: string | null }[]>`
        select id, created, last_used, user_agent, source_ip from attune.session
        where identity_id = ${identityId} and revoked is null and expires > now()
        order by last_used desc, created desc
        limit ${MAX_LISTED_SESSIONS}`
      return rows.map((r) => ({ id: r.id, created: r.created, lastUsed: r.last_used, userAgent: r.user_agent, sourceIp: r.source_ip }))
    },

    async revoke(identityId, sessionId, reason) {
      const result = await sql`
        update attune.session set revoked = now(), revoked_reason = ${reason}
        where id = ${sessionId} and identity_id = ${identityId} and revoked is null and expires > now()`
      return result.count === 1
    },

    async revokeAll(identityId, reason, keep) {
      const result = await sql`
        update attune.session set revoked = now(), revoked_reason = ${reason}
        where identity_id = ${identityId} and revoked is null
          ${keep === undefined ? sql`` : sql`and id <> ${keep}`}`
      return result.count
    },
  }
}
