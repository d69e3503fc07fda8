/**
 * What a consuming API declares its routes need (README "Protect your API"), as a file in its own repository:
 *
 *   {"requirements": [{"route": "GET /orders", "permission": "orders:read", "mode": "enforce"}, ...]}
 *
 * `route` is `METHOD /resource` as API Gateway names the route (`ANY` or `*` for every method; path parameters
 * as `{id}`, `{proxy+}`); `mode` is `enforce` (the default) or `report`. `npm run admin -- set-route-requirements
 * <api-id> <file>` makes the API's requirements exactly these.
 */
import type { RequirementMode, RouteRequirement } from '../db/route-requirements.js'
import { REQUIREMENT_MODES } from '../db/route-requirements.js'
import { PERMISSION_NAME } from './requests.js'

export type DeclaredRequirement = Omit<RouteRequirement, 'apiId'>

export const API_ID = /^[A-Za-z0-9_-]{1,64}$/
const METHODS = new Set(['*', 'GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'])
const RESOURCE = /^\/[A-Za-z0-9._~{}+*/-]{0,511}$/

/** The declarations of a parsed JSON file; throws an Error naming the first entry that is wrong. */
export function parseRouteRequirements(document: unknown): DeclaredRequirement[] {
  const list = (document as { requirements?: unknown } | null)?.requirements
  if (!Array.isArray(list)) throw new Error('the file must be {"requirements": [{"route", "permission", "mode"}, ...]}')
  return list.map((entry: unknown, index) => {
    const { route, permission, mode = 'enforce' } = (entry ?? {}) as Record<string, unknown>
    const at = `requirements[${index}]`
    const [method = '', resource = '', ...rest] = typeof route === 'string' ? route.trim().split(/\s+/) : []
    const upper = method.toUpperCase() === 'ANY' ? '*' : method.toUpperCase()
    if (rest.length > 0 || !METHODS.has(upper) || !RESOURCE.test(resource))
      throw new Error(`${at}.route must be "METHOD /resource", e.g. "GET /orders/{id}"`)
    if (typeof permission !== 'string' || !PERMISSION_NAME.test(permission)) throw new Error(`${at}.permission must be resource:action`)
    if (!REQUIREMENT_MODES.includes(mode as RequirementMode)) throw new Error(`${at}.mode must be "enforce" or "report"`)
    return { method: upper, resource, permission, mode: mode as RequirementMode }
  })
}
