/**
 * The route requirements (infra/migrations/00013_route_requirements.sql) as the authorizer reads them: an
 * API's rows and their version, in one statement. Changing them is lib/db/route-requirement-changes.ts.
 */
import type { Acr } from '../tokens/claims.js'
import type { Sql } from './client.js'

export const REQUIREMENT_MODES = ['enforce', 'report'] as const
export type RequirementMode = (typeof REQUIREMENT_MODES)[number]

/**
 * One row: `method` and `resource` name a route of the API `apiId` as API Gateway does; `*` matches any method.
 * It asks for a permission, how the caller signed in (`minAcr`, `maxAge`), or both; at least one.
 */
export interface RouteRequirement {
  apiId: string
  method: string
  resource: string
  /** A permission the caller must hold; null on a row that asks only how they signed in. */
  permission: string | null
  /** The assurance level the caller's sign-in must reach (`aal2`: with a second factor). */
  minAcr: Acr | null
  /** The most seconds since the caller's sign-in (the session's `auth_time`). */
  maxAge: number | null
  mode: RequirementMode
}

export interface ApiRequirements {
  /** attune.route_requirement_api's version (0: the API never had any). */
  version: number
  requirements: RouteRequirement[]
}

export interface RouteRequirementReader {
  /** The API's requirements and their version, in one statement. */
  read(apiId: string): Promise<ApiRequirements>
}

export function createRouteRequirementReader(sql: Sql): RouteRequirementReader {
  return {
    async read(apiId) {
      const rows = await sql<(Omit<RouteRequirement, 'apiId'> & { version: string | null })[]>`
        select v.version, r.method, r.resource, r.permission, r.min_acr as "minAcr", r.max_age as "maxAge", r.mode
        from (select coalesce((select version from attune.route_requirement_api where api_id = ${apiId}), 0) as version) v
        left join attune.route_requirement r on r.api_id = ${apiId}
        order by r.resource, r.method, r.permission nulls first`
      return {
        version: Number(rows[0]?.version ?? 0),
        // The left join's one row of an API without requirements has no route.
        requirements: rows
          .filter((row) => row.method !== null)
          .map(({ method, resource, permission, minAcr, maxAge, mode }) => ({ apiId, method, resource, permission, minAcr, maxAge, mode })),
      }
    },
  }
}
