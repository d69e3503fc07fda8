/**
 * The authorizer's per-container caches, each keyed by a version its one session lookup reads: an identity's
 * grants (authz_version) and the route requirements (route_requirement_version).
 */
import type { GrantsLookup } from '../authz/grants.js'
import { createGrantsCache } from '../authz/grants.js'
import type { RouteRequirementsLookup } from '../authz/route-requirements.js'
import { createRouteRequirementsCache } from '../authz/route-requirements.js'
import type { Sql } from '../db/client.js'
import { createGrantsReader } from '../db/grants.js'
import { createRouteRequirementReader } from '../db/route-requirements.js'

export function createDecisionCaches(sql: Sql): { grants: GrantsLookup; requirements: RouteRequirementsLookup } {
  return {
    grants: createGrantsCache(createGrantsReader(sql)),
    requirements: createRouteRequirementsCache(createRouteRequirementReader(sql)),
  }
}
