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
 * The policy covers every method and path of the stage, so a decision cached by API Gateway for one
 * route is right for all of them.
 */
import type { BearerRefusal } from '@attune-auth/client/errors'
import { REASONS } from '@attune-auth/client/errors'
import type { AuthenticatedUser } from '@attune-auth/client/require-auth'
import type {
  APIGatewayAuthorizerResult,
  APIGatewayRequestAuthorizerEvent,
  APIGatewayRequestAuthorizerEventV2,
  APIGatewayTokenAuthorizerEvent,
} from 'aws-lambda'
import type { GrantsLookup } from '../authz/grants.js'
import type { SessionLookup } from '../db/session-lookup.js'
import { headerValue } from '../http/headers.js'
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

/** Allow carries the caller as the handlers' `requireAuth` reads it back from the context. */
export type Decision = ({ effect: 'Allow' } & AuthenticatedUser) | { effect: 'Deny'; reason: BearerRefusal }

const deny = (reason: BearerRefusal): Decision => ({ effect: 'Deny', reason })

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
}

export async function decide(event: AuthorizerEvent, { tokens, sessions, grants }: AuthorizerDependencies): Promise<Decision> {
  const token = bearerToken(event)
  if (token === undefined) return deny('token_missing')
  let verified: VerifiedToken
  try {
    verified = await tokens.verifyAccessToken(token)
  } catch (error) {
    if (!(error instanceof TokenError)) throw error
    return deny(error.reason === 'expired' ? 'token_expired' : 'token_invalid')
  }
  const session = await sessions.find(verified.identityId, verified.sessionId)
  // No session of this identity by that id: the token pairs an identity with someone else's (or no) session.
  if (!session) return deny('token_invalid')
  if (!session.active) return deny('session_ended')
  const { roles, permissions } = await grants.grantsOf(verified.identityId, session.authzVersion)
  return { effect: 'Allow', identityId: verified.identityId, login: session.login, sessionId: verified.sessionId, roles, permissions }
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
  if (isHttpApiV2(event)) {
    if (options.simpleResponses) return { isAuthorized: decision.effect === 'Allow', context: contextOf(decision) }
    return toPolicy(decision, event.routeArn)
  }
  return toPolicy(decision, event.methodArn)
}

function contextOf(decision: Decision): Record<string, string | number | boolean> {
  return decision.effect === 'Allow'
    ? {
        identityId: decision.identityId,
        login: decision.login,
        sessionId: decision.sessionId,
        // Context values are flat strings: space-separated, as OAuth's `scope`.
        roles: decision.roles.join(' '),
        permissions: decision.permissions.join(' '),
      }
    : { error: REASONS[decision.reason].message, code: REASONS[decision.reason].code, reason: decision.reason }
}

export function toPolicy(decision: Decision, methodArn: string): APIGatewayAuthorizerResult {
  const allow = decision.effect === 'Allow'
  return {
    principalId: allow ? String(decision.identityId) : 'anonymous',
    policyDocument: {
      Version: '2012-10-17',
      Statement: [{ Action: 'execute-api:Invoke', Effect: decision.effect, Resource: stageWildcardArn(methodArn) }],
    },
    context: contextOf(decision),
  }
}
