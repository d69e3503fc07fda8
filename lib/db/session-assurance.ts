/**
 * Raising a session's assurance (POST /auth/reauthenticate, a factor's activation): only the two-factor functions
 * carry it, apart from the session repository every function has.
 */
import type { Origin } from '../audit/events.js'
import { USER } from '../audit/events.js'
import type { SessionPolicy } from '../config.js'
import type { IssuedClaims } from '../tokens/claims.js'
import { recordEvents } from './audit.js'
import type { Sql } from './client.js'
import { grantsColumns } from './grants.js'
import { activeSession } from './session-lookup.js'
import type { AssuranceRow, RevokeReason } from './sessions.js'
import { assuranceColumns, recordEnded, refreshedExpiry, toIssuedClaims } from './sessions.js'

export interface ReauthenticateRequest {
  identityId: number
  sessionId: string
  /** The RFC 8176 method just proved: `pwd`, or a second factor `otp` / `rc` (a recovery code). */
  method: 'pwd' | 'otp' | 'rc'
  next: { refreshTokenId: string; refreshIssuedAt: number }
  origin: Origin
  endOthers?: RevokeReason
}

export interface SessionAssurance {
  /**
   * Raises the session's assurance in place: `auth_time` now, and with a second factor (`otp`, `rc`) `acr` aal2
   * and the method added to `amr`; its refresh token rotates in the same statement with no grace for the one
   * before (presented again, it is a replay). `endOthers`: the identity's other active sessions end too. Audited
   * (`session.reauthenticated`). Answers the session's new claims; undefined when it is not active.
   */
  reauthenticate(request: ReauthenticateRequest): Promise<IssuedClaims | undefined>
}

export function createSessionAssurance(sql: Sql, policy: SessionPolicy): SessionAssurance {
  return {
    async reauthenticate(r) {
      const secondFactor = r.method !== 'pwd'
      const [row] = await sql<(AssuranceRow & { authz_version: string; permissions: string[] })[]>`
        with raised as (
          update attune.session s
          set refresh_jti = ${r.next.refreshTokenId}, refresh_iat = ${r.next.refreshIssuedAt}, previous_jti = null, rotated = null,
              last_used = now(), expires = ${refreshedExpiry(sql, policy, 's')}, auth_time = now(),
              acr = case when ${secondFactor} then 'aal2' else s.acr end,
              amr = case when ${r.method} = any(s.amr) then s.amr else s.amr || array[${r.method}::text] end
          where s.id = ${r.sessionId} and s.identity_id = ${r.identityId} and ${activeSession(sql, policy, 's')}
          returning s.id, s.identity_id, ${assuranceColumns(sql, 's')}
        ), ended as (
          update attune.session o set revoked = now(), revoked_reason = ${r.endOthers ?? null}::text
          where ${r.endOthers !== undefined} and o.identity_id = ${r.identityId} and o.id <> ${r.sessionId} and ${activeSession(sql, policy, 'o')}
            and exists (select 1 from raised)
          returning o.id, o.identity_id
        ), raised_event as (${recordEvents(
          sql,
          { type: 'session.reauthenticated', outcome: 'success', actor: USER, origin: r.origin },
          sql`select identity_id, id as session_id, jsonb_build_object('method', ${r.method}::text, 'acr', acr) as data from raised`,
        )}), ended_events as (${recordEnded(sql, r.endOthers ?? 'logout_others', r.origin, 'ended')})
        select r.acr, r.amr, r.auth_time, ${grantsColumns(sql, r.identityId)} from raised r`
      return row && toIssuedClaims(row)
    },
  }
}
