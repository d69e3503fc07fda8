/**
 * The route requirements (infra/migrations/00013_route_requirements.sql) as the authorizer reads them: an
 * API's rows and their version, in one statement. Changing them is lib/db/route-requirement-changes.ts.
 */
import type { Sql } from './client.js'

export const REQUIREMENT_MODES = ['enforce', 'report'] as const
export type RequirementMode = (typeof REQUIREMENT_MODES)[number]

/** One row: `method` and `resource` name a route of the API `apiId` as API Gateway does; `*` matches any method. */
export interface RouteRequirement {
  apiId: string
  method: string
  resource: string
  permission: string
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
        select v.version, r.method, r.resource, r.permission, r.mode
        from (select coalesce((select version from attune.route_requirement_api where api_id = ${apiId}), 0) as version) v
        left join attune.route_requirement r on r.api_id = ${apiId}
        order by r.resource, r.method, r.permission`
      return {
        version: Number(rows[0]?.version ?? 0),
        requirements: rows
          .filter((row) => row.permission !== null)
          .map(({ method, resource, permission, mode }) => ({ apiId, method, resource, permission, mode })),
      }
    },
  }
}
