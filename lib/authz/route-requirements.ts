/**
 * Route requirements in the authorizer (README "Protect your API"): which routes of the API being called the
 * caller may not use, as the IAM policy's Deny statements. The policy always covers every route of the API
 * (Allow on the stage, Deny on the routes whose `enforce` requirements the caller misses), so a decision that
 * API Gateway caches for one route is right for all of them (DESIGN §7). A requirement asks for a permission,
 * for a sign-in strong enough (`minAcr`) and recent enough (`maxAge`), or both.
 *
 * An API's rows are read once per container and kept until their version, which the session lookup reads in
 * the same statement, moves: a change reaches the very next request, and costs one query per container then.
 */
import type { RequirementMode, RouteRequirement, RouteRequirementReader } from '../db/route-requirements.js'
import type { Acr, Assurance } from '../tokens/claims.js'

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

/** Each cached row's pattern, made once: the rows live in the requirements cache as long as their version. */
const patterns = new WeakMap<Pick<RouteRequirement, 'method' | 'resource'>, string>()

/** `METHOD/path` of a requirement, as an IAM resource pattern: a path parameter (`{id}`, `{proxy+}`) is `*`. */
export function routePattern(requirement: Pick<RouteRequirement, 'method' | 'resource'>): string {
  let pattern = patterns.get(requirement)
  if (pattern === undefined) {
    pattern = `${requirement.method}/${requirement.resource.slice(1).replace(/\{[^}]*\}/g, '*')}`
    patterns.set(requirement, pattern)
  }
  return pattern
}

/** Patterns compiled once per container (an API's few rows are read on every call): at most this many kept. */
const COMPILED_PATTERNS_KEPT = 10_000
const compiled = new Map<string, RegExp>()

/** Whether an IAM resource pattern matches: `*` stands for any characters, `/` included, as IAM reads it. */
export function patternMatches(pattern: string, route: string): boolean {
  let matcher = compiled.get(pattern)
  if (!matcher) {
    const parts = pattern.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    matcher = new RegExp(`^${parts.join('.*')}$`)
    if (compiled.size >= COMPILED_PATTERNS_KEPT) compiled.clear()
    compiled.set(pattern, matcher)
  }
  return matcher.test(route)
}

/** What a route asks of the caller's sign-in, as RFC 9470's challenge says it (`acr_values`, `max_age`). */
export interface SignInNeed {
  acr: Acr | null
  maxAge: number | null
}

/** What the refusal of a denied route says (the ACCESS_DENIED Gateway Response prints it from the context). */
export type RouteRefusal = { reason: 'permission_missing' } | ({ reason: 'insufficient_user_authentication' } & SignInNeed)

export interface RouteVerdict {
  /** Resource patterns (`METHOD/path`) the caller may not use: one Deny statement lists them. */
  denied: string[]
  /** This request's route: the permissions it lacks for it, in `enforce` (refused) and `report` (logged) rows. */
  missing: { enforce: string[]; report: string[] }
  /** This request's route: what its rows ask of a sign-in, when the caller's falls short of them (else null). */
  signIn: Record<RequirementMode, SignInNeed | null>
  /**
   * This route's refusal when it is denied (a missing permission first: signing in again would not help); else,
   * for a decision API Gateway caches and reuses on another route, the other routes': a permission if any lacks
   * one, or the sign-in they need. Null when nothing is denied.
   */
  refusal: RouteRefusal | null
}

/** The caller as route requirements see them: what they may do, and how and when they signed in. */
export interface RouteCaller extends Pick<Assurance, 'acr' | 'authTime'> {
  permissions: readonly string[]
}

const ACR_RANK: Record<Acr, number> = { aal1: 1, aal2: 2 }

/** Whether a sign-in at `acr`, `authTime` (seconds) meets what a row asks, at `now` (seconds). */
const signInMeets = (row: RouteRequirement, { acr, authTime }: RouteCaller, now: number): boolean =>
  (row.minAcr === null || ACR_RANK[acr] >= ACR_RANK[row.minAcr]) && (row.maxAge === null || now - authTime <= row.maxAge)

/** The strictest of several needs: the highest level, the shortest age. */
function strictest(needs: readonly SignInNeed[]): SignInNeed {
  let acr: Acr | null = null
  let maxAge: number | null = null
  for (const need of needs) {
    if (need.acr !== null && (acr === null || ACR_RANK[need.acr] > ACR_RANK[acr])) acr = need.acr
    if (need.maxAge !== null && (maxAge === null || need.maxAge < maxAge)) maxAge = need.maxAge
  }
  return { acr, maxAge }
}

const asksSignIn = (row: RouteRequirement): boolean => row.minAcr !== null || row.maxAge !== null

/**
 * What `caller` may not do on the API whose requirements these are, and on the route `route` of this request,
 * at `now` (seconds since the epoch). A route's sign-in need, once the caller falls short of one of its rows,
 * is the strictest of all its rows' (what the challenge must ask for a retry to pass).
 */
export function routeVerdict(requirements: readonly RouteRequirement[], caller: RouteCaller, route: string, now: number): RouteVerdict {
  const held = new Set(caller.permissions)
  const denied = new Set<string>()
  const missing: RouteVerdict['missing'] = { enforce: [], report: [] }
  const asked: Record<RequirementMode, SignInNeed[]> = { enforce: [], report: [] }
  const short: Record<RequirementMode, boolean> = { enforce: false, report: false }
  // The other routes (for a decision API Gateway caches): their enforced sign-in rows, and which fall short.
  const askedElsewhere = new Map<string, SignInNeed[]>()
  const shortElsewhere = new Set<string>()
  let permissionElsewhere = false
  for (const requirement of requirements) {
    const pattern = routePattern(requirement)
    const here = patternMatches(pattern, route)
    const { mode, permission } = requirement
    const need = { acr: requirement.minAcr, maxAge: requirement.maxAge }
    const permissionMissing = permission !== null && !held.has(permission)
    const signInShort = !signInMeets(requirement, caller, now)
    if (mode === 'enforce' && (permissionMissing || signInShort)) denied.add(pattern)
    if (here) {
      if (asksSignIn(requirement)) asked[mode].push(need)
      if (permissionMissing) missing[mode].push(permission)
      short[mode] ||= signInShort
    } else if (mode === 'enforce') {
      if (asksSignIn(requirement)) askedElsewhere.set(pattern, [...(askedElsewhere.get(pattern) ?? []), need])
      if (signInShort) shortElsewhere.add(pattern)
      permissionElsewhere ||= permissionMissing
    }
  }
  const signIn = {
    enforce: short.enforce ? strictest(asked.enforce) : null,
    report: short.report ? strictest(asked.report) : null,
  }
  const elsewhere = {
    permission: permissionElsewhere,
    signIn: shortElsewhere.size > 0 ? strictest([...shortElsewhere].flatMap((pattern) => askedElsewhere.get(pattern) ?? [])) : null,
  }
  return { denied: [...denied], missing, signIn, refusal: refusalOf(missing.enforce, signIn.enforce, elsewhere) }
}

function refusalOf(
  missing: readonly string[],
  signIn: SignInNeed | null,
  elsewhere: { permission: boolean; signIn: SignInNeed | null },
): RouteRefusal | null {
  if (missing.length > 0) return { reason: 'permission_missing' }
  if (signIn) return { reason: 'insufficient_user_authentication', ...signIn }
  if (elsewhere.permission) return { reason: 'permission_missing' }
  if (elsewhere.signIn) return { reason: 'insufficient_user_authentication', ...elsewhere.signIn }
  return null
}
