/**
 * Changing an API's route requirements (npm run admin), in one transaction with its audit events; the
 * table's trigger moves route_requirement_version, so every authorizer container reads the new requirements
 * on its next request. The authorizer reads them through lib/db/route-requirements.ts alone.
 */
import type { DeclaredRequirement } from '../authz/route-requirement-declarations.js'
import { recordEvent } from './audit.js'
import type { Sql } from './client.js'
import type { ChangeAuthor } from './roles.js'
import type { RouteRequirement } from './route-requirements.js'

export interface RouteRequirementChanges {
  /** The API's requirements, by resource and method. */
  list(apiId: string): Promise<RouteRequirement[]>
  /**
   * Makes the API's requirements exactly `requirements`, creating the permissions they name that do not exist
   * yet; answers how many rows were added, changed (mode, min_acr, max_age) and removed. Unchanged rows write nothing.
   */
  replace(
    apiId: string,
    requirements: DeclaredRequirement[],
    author: ChangeAuthor,
  ): Promise<{ added: number; changed: number; removed: number; permissionsCreated: string[] }>
}

export function createRouteRequirementChanges(sql: Sql): RouteRequirementChanges {
  return {
    async list(apiId) {
      const rows = await sql<Omit<RouteRequirement, 'apiId'>[]>`
        select method, resource, permission, min_acr as "minAcr", max_age as "maxAge", mode
        from attune.route_requirement where api_id = ${apiId}
        order by resource, method, permission nulls first`
      return rows.map((row) => ({ apiId, ...row }))
    },

    async replace(apiId, requirements, { actor, origin }) {
      const wanted = sql.json(requirements as unknown as Parameters<Sql['json']>[0])
      return sql.begin(async (tx) => {
        // One change of an API at a time: two declarations made at once leave one of them, never a mix (the second
        // waits here, then reads the first's rows). The lock is the API's version row, made if it has none yet.
        await tx`insert into attune.route_requirement_api as a (api_id) values (${apiId})
                 on conflict (api_id) do update set version = a.version`
        const permissionsCreated = (
          await tx<{ name: string }[]>`
            insert into attune.permission (name, description)
            select distinct w.permission, 'Declared by a route requirement of API ' || ${apiId}
            from jsonb_to_recordset(${wanted}::jsonb) as w (permission text) where w.permission is not null
            on conflict (name) do nothing returning name`
        )
          .map((row) => row.name)
          .sort()
        for (const permission of permissionsCreated)
          await tx`${recordEvent(tx, { type: 'permission.created', outcome: 'success', actor, origin, identityId: null, sessionId: null, data: { permission } })}`
        const [counts] = await tx<{ added: number; changed: number; removed: number }[]>`
          with wanted as (
            select distinct on (method, resource, permission) method, resource, permission, "minAcr", "maxAge", mode
            from jsonb_to_recordset(${wanted}::jsonb) as w (method text, resource text, permission text, "minAcr" text, "maxAge" integer, mode text)
          ), removed as (
            delete from attune.route_requirement r where r.api_id = ${apiId}
              and not exists (select 1 from wanted w where w.method = r.method and w.resource = r.resource
                                                        and w.permission is not distinct from r.permission)
            returning 1
          ), written as (
            insert into attune.route_requirement (api_id, method, resource, permission, min_acr, max_age, mode)
            select ${apiId}, method, resource, permission, "minAcr", "maxAge", mode from wanted
            on conflict (api_id, method, resource, permission) do update
              set min_acr = excluded.min_acr, max_age = excluded.max_age, mode = excluded.mode
              where (route_requirement.min_acr, route_requirement.max_age, route_requirement.mode)
                    is distinct from (excluded.min_acr, excluded.max_age, excluded.mode)
            returning (xmax = 0) as added
          )
          select (select count(*) from written where added)::int as added, (select count(*) from written where not added)::int as changed,
                 (select count(*) from removed)::int as removed`
        const result = { added: counts?.added ?? 0, changed: counts?.changed ?? 0, removed: counts?.removed ?? 0, permissionsCreated }
        if (result.added + result.changed + result.removed > 0) {
          const data = {
            api_id: apiId,
            added: result.added,
            changed: result.changed,
            removed: result.removed,
            requirements: requirements.length,
          }
          await tx`${recordEvent(tx, { type: 'route_requirements.changed', outcome: 'success', actor, origin, identityId: null, sessionId: null, data })}`
        }
        return result
      })
    },
  }
}
