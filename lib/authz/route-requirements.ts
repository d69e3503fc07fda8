/**
 * Route requirements in the authorizer (README "Protect your API"): which routes of the API being called the
 * caller may not use, as the IAM policy's Deny statements. The policy always covers every route of the API
 * (Allow on the stage, Deny on the routes whose `enforce` requirements the caller misses), so a decision that
 * API Gateway caches for one route is right for all of them (DESIGN §7).
 *
 * An API's rows are read once per container and kept until their version, which the session lookup reads in
 * the same statement, moves: a change reaches the very next request, and costs one query per container then.
 */
import type { RouteRequirement, RouteRequirementReader } from '../db/route-requirements.js'

export interface RouteRequirementsLookup {
  /**
   * The requirements of API `apiId` at `version` (the session lookup's): read again when it moved. Without a
   * version (a refused token, which costs no session lookup), as last read in this container, read once if never.
   */
  forApi(apiId: string, version?: number): Promise<readonly RouteRequirement[]>
}

/** APIs kept at most (an account has a few hundred at most); past it the least recently read go first. */
export const REQUIREMENTS_CACHE_APIS = 1_000

export function createRouteRequirementsCache(reader: RouteRequirementReader): RouteRequirementsLookup {
  const cache = new Map<string, { version: number; requirements: RouteRequirement[] }>()
  return {
    async forApi(apiId, version) {
      const hit = cache.get(apiId)
      if (hit && (version === undefined || hit.version === version)) return hit.requirements
      const read = await reader.read(apiId)
      cache.delete(apiId)
      cache.set(apiId, read)
      if (cache.size > REQUIREMENTS_CACHE_APIS) cache.delete(cache.keys().next().value as string)
      return read.requirements
    },
  }
}

/** An execute-api ARN (`arn:aws:execute-api:region:account:api/stage/METHOD/path`), split. */
export interface ExecuteApiArn {
  /** `arn:aws:execute-api:region:account:api` */
  api: string
  apiId: string
  stage: string
  /** `METHOD/path`, as the ARN has it (no leading slash on the path). */
  route: string
}

export function parseExecuteApiArn(arn: string): ExecuteApiArn | undefined {
  const match = /^(arn:[^:]+:execute-api:[^:]*:[^:]*:([^/]+))\/([^/]+)\/(.*)$/.exec(arn)
  if (!match) return undefined
  const [, api = '', apiId = '', stage = '', route = ''] = match
  return { api, apiId, stage, route }
}

/** `METHOD/path` of a requirement, as an IAM resource pattern: a path parameter (`{id}`, `{proxy+}`) is `*`. */
export const routePattern = ({ method, resource }: Pick<RouteRequirement, 'method' | 'resource'>): string =>
  `${method}/${resource.slice(1).replace(/\{[^}]*\}/g, '*')}`

/** Whether an IAM resource pattern matches: `*` stands for any characters, `/` included, as IAM reads it. */
export function patternMatches(pattern: string, route: string): boolean {
  const parts = pattern.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
  return new RegExp(`^${parts.join('.*')}$`).test(route)
}

export interface RouteVerdict {
  /** Resource patterns (`METHOD/path`) the caller may not use: one Deny statement lists them. */
  denied: string[]
  /** This request's route: the permissions it lacks for it, in `enforce` (refused) and `report` (logged) rows. */
  missing: { enforce: string[]; report: string[] }
}

/** What `permissions` may not do on the API whose requirements these are, and on the route `route` of this request. */
export function routeVerdict(requirements: readonly RouteRequirement[], permissions: readonly string[], route: string): RouteVerdict {
  const held = new Set(permissions)
  const denied = new Set<string>()
  const missing: RouteVerdict['missing'] = { enforce: [], report: [] }
  for (const requirement of requirements) {
    if (held.has(requirement.permission)) continue
    const pattern = routePattern(requirement)
    if (requirement.mode === 'enforce') denied.add(pattern)
    if (patternMatches(pattern, route)) missing[requirement.mode].push(requirement.permission)
  }
  return { denied: [...denied], missing }
}
