/**
 * What a consuming API declares its routes need (README "Protect your API"), as a file in its own repository:
 *
 *   {"requirements": [{"route": "GET /orders", "permission": "orders:read", "mode": "enforce"},
 *                     {"route": "POST /refunds", "min_acr": "aal2", "max_age": 300}, ...]}
 *
 * `route` is `METHOD /resource` as API Gateway names the route (`ANY` or `*` for every method; path parameters
 * as `{id}`, `{proxy+}`); an entry asks for a `permission`, how the caller signed in (`min_acr` `aal1` or `aal2`,
 * `max_age` seconds since the sign-in), or both; `mode` is `enforce` (the default) or `report`.
 * `npm run admin -- set-route-requirements <api-id> <file>` makes the API's requirements exactly these.
 */
import type { RequirementMode, RouteRequirement } from '../db/route-requirements.js'
import { REQUIREMENT_MODES } from '../db/route-requirements.js'
import type { Acr } from '../tokens/claims.js'
import { ACR_VALUES } from '../tokens/claims.js'
import { PERMISSION_NAME } from './requests.js'

export type DeclaredRequirement = Omit<RouteRequirement, 'apiId'>

export const API_ID = /^[A-Za-z0-9_-]{1,64}$/
const METHODS = new Set(['*', 'GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'])
const RESOURCE = /^\/[A-Za-z0-9._~{}+*/-]{0,511}$/
/** The longest `max_age` (a year), as the table's check has it. */
const MAX_AGE_LIMIT = 31_536_000

/** The declarations of a parsed JSON file; throws an Error naming the first entry that is wrong. */
export function parseRouteRequirements(document: unknown): DeclaredRequirement[] {
  const list = (document as { requirements?: unknown } | null)?.requirements
  if (!Array.isArray(list))
    throw new Error('the file must be {"requirements": [{"route", "permission", "min_acr", "max_age", "mode"}, ...]}')
  return list.map((entry: unknown, index) => {
    const { route, permission, min_acr: minAcr, max_age: maxAge, mode = 'enforce' } = (entry ?? {}) as Record<string, unknown>
    const at = `requirements[${index}]`
    const [method = '', resource = '', ...rest] = typeof route === 'string' ? route.trim().split(/\s+/) : []
    const upper = method.toUpperCase() === 'ANY' ? '*' : method.toUpperCase()
    if (rest.length > 0 || !METHODS.has(upper) || !RESOURCE.test(resource))
      throw new Error(`${at}.route must be "METHOD /resource", e.g. "GET /orders/{id}"`)
    if (permission !== undefined && (typeof permission !== 'string' || !PERMISSION_NAME.test(permission)))
      throw new Error(`${at}.permission must be resource:action`)
    if (minAcr !== undefined && !ACR_VALUES.includes(minAcr as Acr)) throw new Error(`${at}.min_acr must be "aal1" or "aal2"`)
    if (maxAge !== undefined && !(Number.isSafeInteger(maxAge) && (maxAge as number) >= 0 && (maxAge as number) <= MAX_AGE_LIMIT))
      throw new Error(`${at}.max_age must be whole seconds from 0 to ${MAX_AGE_LIMIT}`)
    if (permission === undefined && minAcr === undefined && maxAge === undefined)
      throw new Error(`${at} must ask for a permission, a min_acr or a max_age`)
    if (!REQUIREMENT_MODES.includes(mode as RequirementMode)) throw new Error(`${at}.mode must be "enforce" or "report"`)
    return {
      method: upper,
      resource,
      permission: (permission as string | undefined) ?? null,
      minAcr: (minAcr as Acr | undefined) ?? null,
      maxAge: (maxAge as number | undefined) ?? null,
      mode: mode as RequirementMode,
    }
  })
}
