/**
 * The authorizer's per-container caches, each keyed by a version its one session lookup reads: an identity's
 * grants (authz_version) and the route requirements (route_requirement_version).
 */
import type { GrantsLookup } from '../authz/grants.js'
import { createGrantsCache } from '../authz/grants.js'
import type { RouteRequirementsLookup } from '../authz/route-requirements.js'
import { createRouteRequirementsCache } from '../authz/route-requirements.js'
import type { AuthorizerConfig } from '../config.js'
import type { ApiKeyLookup } from '../db/api-key-lookup.js'
import { createApiKeyLookup } from '../db/api-key-lookup.js'
import type { Sql } from '../db/client.js'
import { createGrantsReader } from '../db/grants.js'
import { createRouteRequirementReader } from '../db/route-requirements.js'
import type { ApiKeyEnvironment } from '../keys/api-key.js'

export function createDecisionCaches(
  sql: Sql,
  config: Pick<AuthorizerConfig, 'apiKeys'>,
): { grants: GrantsLookup; requirements: RouteRequirementsLookup; apiKeys: ApiKeyLookup; apiKeyEnvironment: ApiKeyEnvironment } {
  return {
    grants: createGrantsCache(createGrantsReader(sql)),
    requirements: createRouteRequirementsCache(createRouteRequirementReader(sql)),
    // Not a cache: a key is looked up on every request, as a session is.
    apiKeys: createApiKeyLookup(sql),
    apiKeyEnvironment: config.apiKeys.environment,
  }
}
