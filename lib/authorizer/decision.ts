/**
 * The Lambda authorizer's decision: what a `require_auth` middleware would decide, for every API behind it.
 *
 * It reads `Authorization: Bearer <token>` (REST REQUEST and HTTP API events; case-insensitive header
 * name) or the token of a REST TOKEN event, verifies it as an access token, and answers an IAM policy
 * (or, for HTTP API payload 2.0 with simple responses, `{isAuthorized, context}`):
 * - Allow, with context `{identityId, login, sessionId, roles, permissions}` for the handlers (`requireAuth`), when the token
 *   verifies and its session is still active AND belongs to the token's subject (one indexed lookup: logout
 *   and replay reach access tokens, and a token pairing one identity with another's session is refused).
 *   `login` comes from the identity's row: it is display text chosen by the user, never an authority.
 * - Deny, with context `{error, code, reason}` holding the documented message, which the ACCESS_DENIED Gateway
 *   Response turns into `401 {"error", "code": "UNAUTHORIZED", "reason"}`.
 * An API that declares route requirements (lib/authz/route-requirements.ts) gets them enforced in the same
 * policy: Allow on the stage, Deny on the routes the caller lacks a permission for or has not signed in strongly
 * or recently enough for, and the context's `{error, code, reason}` of a 403 FORBIDDEN (`permission_missing`, or
 * `insufficient_user_authentication` with RFC 9470's `acrValues` and `maxAge`), which that API's ACCESS_DENIED
 * Gateway Response answers (at 403: its headers cannot come from the context, so RFC 9470's 401 challenge with
 * the route's own values is `requireAssurance`'s, in a handler).
 * A Gateway Response has one status, so such an API refuses a bad token with API Gateway's own
 * `Unauthorized` (its UNAUTHORIZED response, 401) rather than the Deny above (README "Protect your API").
 * The policy covers every method and path of the stage, so a decision cached by API Gateway for one
 * route is right for all of them.
 */

import { BEARER_REASONS, INSUFFICIENT_USER_AUTHENTICATION, PERMISSION_MISSING } from '@attune-auth/client/bearer-reasons'
import type { BearerRefusal } from '@attune-auth/client/errors'
import type { AuthenticatedUser } from '@attune-auth/client/require-auth'
import type {
  APIGatewayAuthorizerResult,
  APIGatewayRequestAuthorizerEvent,
  APIGatewayRequestAuthorizerEventV2,
  APIGatewayTokenAuthorizerEvent,
  Statement,
} from 'aws-lambda'
import type { GrantsLookup } from '../authz/grants.js'
import type { ExecuteApiArn, RouteRefusal, RouteRequirementsLookup, RouteVerdict } from '../authz/route-requirements.js'
import { parseExecuteApiArn, routeVerdict } from '../authz/route-requirements.js'
import type { ApiKeyLookup } from '../db/api-key-lookup.js'
import type { SessionLookup } from '../db/session-lookup.js'
import { headerValue } from '../http/headers.js'
import type { ApiKeyEnvironment } from '../keys/api-key.js'
import { apiKeyHash, checkApiKey, looksLikeApiKey } from '../keys/api-key.js'
import type { Assurance } from '../tokens/claims.js'
import type { TokenService, VerifiedToken } from '../tokens/service.js'
import { TokenError } from '../tokens/service.js'

/** REST API events, and HTTP API payload 1.0 (same shape): answered with an IAM policy. */
export type RestAuthorizerEvent = APIGatewayRequestAuthorizerEvent | APIGatewayTokenAuthorizerEvent
export type AuthorizerEvent = RestAuthorizerEvent | APIGatewayRequestAuthorizerEventV2

/** An HTTP API Lambda authorizer event in payload format 2.0 (format 1.0 has the REST REQUEST shape). */
export function isHttpApiV2(event: AuthorizerEvent): event is APIGatewayRequestAuthorizerEventV2 {
  return (event as { version?: unknown }).version === '2.0'
}

/** HTTP API's "simple response" (enableSimpleResponses): the context arrives as `requestContext.authorizer.lambda`. */
export interface SimpleAuthorizerResult {
  isAuthorized: boolean
  context: Record<string, string | number | boolean>
}

/**
 * Allow carries the caller as the handlers' `requireAuth` reads it back from the context, and what the API's
 * route requirements refuse them. Deny says why; `unauthorized` when the API declares route requirements (its
 * ACCESS_DENIED answers 403): the refusal is then API Gateway's own 401.
 */
export type Decision =
  | ({ effect: 'Allow'; routes: RouteVerdict } & AuthenticatedUser)
  | { effect: 'Deny'; reason: BearerRefusal; unauthorized: boolean }

/** An API key is one credential, no sign-in: the lowest assurance, no methods, time 0. */
const KEY_ASSURANCE = { acr: 'aal1' as const, amr: [] as string[], authTime: 0 }

/** An API without route requirements: every route open to every caller the token lets in. */
export const NO_ROUTE_REQUIREMENTS: RouteVerdict = Object.freeze({
  denied: [],
  missing: { enforce: [], report: [] },
  signIn: { enforce: null, report: null },
  refusal: null,
})

const BEARER = /^Bearer +([^\s]+) *$/i

/** The bearer token of an authorizer event; undefined when absent or not a Bearer credential. */
export function bearerToken(event: AuthorizerEvent): string | undefined {
  const value = event.type === 'TOKEN' ? event.authorizationToken : headerValue(event.headers, 'authorization')
  if (typeof value !== 'string') return undefined
  return BEARER.exec(value)?.[1]
}

export interface AuthorizerDependencies {
  tokens: TokenService
  sessions: SessionLookup
  /** The identity's roles and permissions, cached by its authz_version (no query on a hit). */
  grants: GrantsLookup
  /** The route requirements of the APIs behind the authorizer, cached by their version (no query on a hit). */
  requirements: RouteRequirementsLookup
  /** Service accounts' API keys, by their hash (one statement, as a session lookup). */
  apiKeys: ApiKeyLookup
  /** The keys this stage accepts (`atk_live_` on production stages, `atk_test_` elsewhere). */
  apiKeyEnvironment: ApiKeyEnvironment
}

/** The ARN of the route being called: the method ARN (REST, HTTP API 1.0) or the route ARN (HTTP API 2.0). */
export const routeArnOf = (event: AuthorizerEvent): string => (isHttpApiV2(event) ? event.routeArn : event.methodArn)

export async function decide(event: AuthorizerEvent, deps: AuthorizerDependencies): Promise<Decision> {
  const { tokens, sessions, grants, requirements } = deps
  const api = parseExecuteApiArn(routeArnOf(event))
  const deny = async (reason: BearerRefusal): Promise<Decision> => ({
    effect: 'Deny',
    reason,
    unauthorized: api !== undefined && (await requirements.forApi(api.apiId)).length > 0,
  })
  /**
   * The identity's grants now, and what the called API's requirements refuse `permissionsOf` them with this
   * sign-in: grants and requirements from the caches.
   */
  const grantsAndRoutes = async (
    identityId: number,
    versions: { authzVersion: number; requirementsVersion: number },
    assurance: Assurance,
    permissionsOf: (held: string[]) => string[] = (held) => held,
  ) => {
    const [held, required] = await Promise.all([
      grants.grantsOf(identityId, versions.authzVersion),
      api ? requirements.forApi(api.apiId, versions.requirementsVersion) : [],
    ])
    const permissions = permissionsOf(held.permissions)
    const routes =
      api && required.length > 0
        ? routeVerdict(required, { permissions, ...assurance }, api.route, Math.floor(Date.now() / 1000))
        : NO_ROUTE_REQUIREMENTS
    return { roles: held.roles, permissions, routes }
  }
  const token = bearerToken(event)
  if (token === undefined) return deny('token_missing')
  if (looksLikeApiKey(token)) {
    // Checksum first: a mistyped or made-up key costs no query.
    if (checkApiKey(token) !== deps.apiKeyEnvironment) return deny('token_invalid')
    const key = await deps.apiKeys.find(apiKeyHash(token), api?.apiId)
    if (!key) return deny('token_invalid')
    // The key's scopes that its account still holds: a role taken from the account reaches its keys at once.
    const allowed = await grantsAndRoutes(key.identityId, key, KEY_ASSURANCE, (held) =>
      held.filter((permission) => key.scopes.includes(permission)),
    )
    const { identityId, login, keyId } = key
    return { effect: 'Allow', identityId, login, sessionId: keyId, ...allowed, ...KEY_ASSURANCE, principalType: 'service', keyId }
  }
  let verified: VerifiedToken
  try {
    verified = await tokens.verifyAccessToken(token)
  } catch (error) {
    if (!(error instanceof TokenError)) throw error
    return deny(error.reason === 'expired' ? 'token_expired' : 'token_invalid')
  }
  const session = await sessions.find(verified.identityId, verified.sessionId, api?.apiId)
  // No session of this identity by that id: the token pairs an identity with someone else's (or no) session.
  if (!session) return deny('token_invalid')
  if (!session.active) return deny('session_ended')
  const allowed = await grantsAndRoutes(verified.identityId, session, session.assurance)
  const { identityId, sessionId } = verified
  const { acr, amr, authTime } = session.assurance
  return {
    effect: 'Allow',
    identityId,
    login: session.login,
    sessionId,
    ...allowed,
    acr,
    amr: [...amr],
    authTime,
    principalType: 'user',
    keyId: null,
  }
}

/**
 * What the logs say of the request being decided: API Gateway's request id, the source address and the
 * user agent, as each event flavour carries them (a TOKEN event carries none of them but the id).
 */
export function requestOf(event: AuthorizerEvent): { apiRequestId?: string; sourceIp?: string; userAgent?: string } {
  const context = (event as { requestContext?: { requestId?: string; identity?: { sourceIp?: string }; http?: { sourceIp?: string } } })
    .requestContext
  const headers = event.type === 'TOKEN' ? undefined : event.headers
  const found = {
    apiRequestId: context?.requestId,
    sourceIp: context?.identity?.sourceIp ?? context?.http?.sourceIp,
    userAgent: headerValue(headers, 'user-agent')?.slice(0, 512),
  }
  return Object.fromEntries(Object.entries(found).filter(([, value]) => typeof value === 'string'))
}

/** `arn:aws:execute-api:region:account:api/stage/*\/*` from the method ARN of the request. */
export function stageWildcardArn(methodArn: string): string {
  const [apiArn, stage] = methodArn.split('/')
  return `${apiArn}/${stage ?? '*'}/*/*`
}

/** The authorizer's answer in the form the event's API expects: an IAM policy, or HTTP API's simple response. */
export function toAuthorizerResult(
  decision: Decision,
  event: AuthorizerEvent,
  options: { simpleResponses: boolean },
): APIGatewayAuthorizerResult | SimpleAuthorizerResult {
  if (isHttpApiV2(event) && options.simpleResponses) return { isAuthorized: permitsRoute(decision), context: contextOf(decision) }
  // API Gateway's own 401 (its UNAUTHORIZED response): the only refusal besides ACCESS_DENIED an authorizer can give.
  if (decision.effect === 'Deny' && decision.unauthorized) throw new Error('Unauthorized')
  return toPolicy(decision, routeArnOf(event))
}

/** Whether the decision lets the caller use the route being called. */
export const permitsRoute = (decision: Decision): boolean =>
  decision.effect === 'Allow' && decision.routes.missing.enforce.length === 0 && decision.routes.signIn.enforce === null

function contextOf(decision: Decision): Record<string, string | number | boolean> {
  return decision.effect === 'Allow'
    ? {
        identityId: decision.identityId,
        login: decision.login,
        sessionId: decision.sessionId,
        // Context values are flat strings: space-separated, as OAuth's `scope`.
        roles: decision.roles.join(' '),
        permissions: decision.permissions.join(' '),
        acr: decision.acr,
        amr: decision.amr.join(' '),
        authTime: decision.authTime,
        ...(decision.principalType === 'service' && decision.keyId !== null ? { principalType: 'service', keyId: decision.keyId } : {}),
        // What the ACCESS_DENIED Gateway Response answers on a route the policy denies.
        ...(decision.routes.refusal ? routeRefusal(decision.routes.refusal) : {}),
      }
    : refusal(decision.reason)
}

/** The messages the authorizer answers with (REASONS' own entries, without the rest of the table). */
const REFUSALS = {
  ...BEARER_REASONS,
  permission_missing: PERMISSION_MISSING,
  insufficient_user_authentication: INSUFFICIENT_USER_AUTHENTICATION,
}

const refusal = (reason: keyof typeof REFUSALS) => ({ error: REFUSALS[reason].message, code: REFUSALS[reason].code, reason })

/**
 * A route requirement's refusal; a sign-in one adds what RFC 9470's challenge would ask (`acrValues`, `maxAge`,
 * as the ACCESS_DENIED Gateway Response prints them: empty when the route does not ask).
 */
const routeRefusal = (route: RouteRefusal) =>
  route.reason === 'permission_missing'
    ? refusal(route.reason)
    : { ...refusal(route.reason), acrValues: route.acr ?? '', maxAge: route.maxAge ?? '' }

export function toPolicy(decision: Decision, methodArn: string): APIGatewayAuthorizerResult {
  const allow = decision.effect === 'Allow'
  const statements: Statement[] = [{ Action: 'execute-api:Invoke', Effect: decision.effect, Resource: stageWildcardArn(methodArn) }]
  const api: ExecuteApiArn | undefined = parseExecuteApiArn(methodArn)
  if (allow && api && decision.routes.denied.length > 0) {
    // An explicit Deny wins over the Allow, on these routes only.
    const Resource = decision.routes.denied.map((route) => `${api.api}/${api.stage}/${route}`)
    statements.push({ Action: 'execute-api:Invoke', Effect: 'Deny', Resource })
  }
  return {
    principalId: allow ? String(decision.identityId) : 'anonymous',
    policyDocument: { Version: '2012-10-17', Statement: statements },
    context: contextOf(decision),
  }
}
