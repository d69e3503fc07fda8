/**
 * The one definition of an active session, and the authorizer's one lookup: all the authorizer needs of
 * `attune.session`, apart from everything that changes sessions (lib/db/sessions.ts), so its bundle carries
 * no more than this.
 */
import type { SessionPolicy } from '../config.js'
import type { Acr, Assurance } from '../tokens/claims.js'
import type { Queryable, Sql } from './client.js'

/**
 * What the authorizer learns from the session lookup: whether it is active, the identity's login from its row
 * (never from the token), and its `authz_version` (which keys the cache of its permissions).
 */
export interface SessionState {
  active: boolean
  login: string
  authzVersion: number
  /** How the session's user authenticated (lib/tokens/claims.ts `Assurance`), from its row. */
  assurance: Assurance
  /** The version of the called API's route requirements (attune.route_requirement_api; 0: never had any). */
  requirementsVersion: number
}

export interface SessionLookup {
  /**
   * The session `sessionId` if it belongs to `identityId` (undefined otherwise, even when it exists): the
   * authorizer's one indexed lookup, which also reads the route requirements' version of the API `apiId` if given.
   */
  find(identityId: number, sessionId: string, apiId?: string): Promise<SessionState | undefined>
}

/** SQL: the session row aliased `alias` is active under `policy`. The one definition of "active". */
export function activeSession(sql: Queryable, policy: SessionPolicy, alias: string) {
  const t = sql(alias)
  return sql`${t}.revoked is null and ${t}.expires > now() and ${t}.created > now() - make_interval(secs => ${policy.maxAge})`
}

export function createSessionLookup(sql: Sql, policy: SessionPolicy): SessionLookup {
  return {
    async find(identityId, sessionId, apiId) {
      const [row] = await sql<
        {
          login: string
          active: boolean
          authz_version: string
          requirements_version: string
          acr: Acr
          amr: string[]
          auth_time: string
        }[]
      >`
        select i.login, i.authz_version, (${activeSession(sql, policy, 's')}) as active,
               s.acr, s.amr, floor(extract(epoch from s.auth_time))::bigint as auth_time,
               coalesce((select version from attune.route_requirement_api where api_id = ${apiId ?? null}::text), 0) as requirements_version
        from attune.session s join attune.identity i on i.id = s.identity_id
        where s.id = ${sessionId} and s.identity_id = ${identityId}`
      return (
        row && {
          login: row.login,
          active: row.active,
          authzVersion: Number(row.authz_version),
          requirementsVersion: Number(row.requirements_version),
          assurance: { acr: row.acr, amr: row.amr, authTime: Number(row.auth_time) },
        }
      )
    },
  }
}
