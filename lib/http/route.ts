/**
 * HTTP framing for API Gateway REST (v1) proxy events: the middy stack every handler shares.
 * It parses and validates the JSON body, answers `{"data": ...}` on success and `{"error", "code", "reason"}`
 * on failure, and never lets a client error become a 500 or a 500 reveal anything internal.
 *
 * The stack, in order: header names to lower case; one log line per request; the caller from the
 * authorizer's context (protected routes: a 401 before the body is looked at); the body's limits (required,
 * at most MAX_BODY_BYTES, a JSON content type, UTF-8); @middy/http-json-body-parser; then the handler, which
 * validates the parsed body against the route's schema.
 */
import type { ApiError } from '@attune-auth/client/errors'
import type { AuthenticatedUser } from '@attune-auth/client/require-auth'
import { requireAuth } from '@attune-auth/client/require-auth'
import middy from '@middy/core'
import httpHeaderNormalizer from '@middy/http-header-normalizer'
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda'
import type * as v from 'valibot'
import { refreshSecrets } from '../config.js'
import { logger } from '../log.js'
import type { AnySchema } from './body.js'
import { jsonBody, validateBody, validateQuery } from './body.js'
import type { ClientInfo } from './client.js'
import { clientInfo } from './client.js'
import { toApiError } from './failures.js'

const RESPONSE_HEADERS = {
  'Content-Type': 'application/json; charset=utf-8',
  // Token responses must not be cached (RFC 6749 §5.1); nothing this API answers should be.
  'Cache-Control': 'no-store',
  Pragma: 'no-cache',
  'X-Content-Type-Options': 'nosniff',
} as const

export interface HttpRequest<Body, User, Query = undefined> {
  event: APIGatewayProxyEvent
  context: Context
  body: Body
  /** The query string's parameters, validated by the route's `query` schema. */
  query: Query
  /** The authenticated user, on routes behind the authorizer. */
  user: User
  /** Where the request came from (recorded on the sessions it opens). */
  client: ClientInfo
}

export interface RouteOptions<S extends AnySchema | undefined, A extends boolean, Q extends AnySchema | undefined = undefined> {
  /** The request body's schema; when absent the route takes no body. */
  body?: S
  /** The query string's schema (an object of optional strings); when absent parameters are ignored. */
  query?: Q
  /** An absent or empty body is read as `{}` (for bodies whose every field is optional). */
  bodyOptional?: boolean
  /** The route is behind the authorizer: the user is read (and a 401 answered) before the body is looked at. */
  authenticated?: A
  /** The success status (default 200). */
  status?: number
  /** Answer the result as is, not in `{data}` (for documents whose format a standard fixes, e.g. a JWKS). */
  unwrapped?: boolean
  /** Response headers added to (or replacing) the defaults, e.g. a Cache-Control for a public document. */
  headers?: Record<string, string>
  /** The result is a URL to answer 302 to (`redirectRoute`). */
  redirect?: boolean
  /** False for the public discovery functions, which read no secret: no SSM call (default true). */
  readsSecrets?: boolean
}

type BodyOf<S> = S extends AnySchema ? v.InferOutput<S> : undefined
type UserOf<A> = A extends true ? AuthenticatedUser : undefined

export function jsonResponse(status: number, body: unknown, headers: Record<string, string> = {}): APIGatewayProxyResult {
  const merged: Record<string, string> = { ...RESPONSE_HEADERS, ...headers }
  // A response made cacheable (a public document such as the JWKS) drops the HTTP/1.0 no-cache.
  if (headers['Cache-Control'] && !headers['Pragma']) delete merged['Pragma']
  return { statusCode: status, headers: merged, body: JSON.stringify(body) }
}

export function errorResponse(error: ApiError): APIGatewayProxyResult {
  return jsonResponse(error.status, error.toBody(), error.headers)
}

/** A Lambda handler for one route: parses the body with `options.body`, calls `handle`, wraps its result in `{data}`. */
export function jsonRoute<
  S extends AnySchema | undefined = undefined,
  A extends boolean = false,
  Q extends AnySchema | undefined = undefined,
>(
  options: RouteOptions<S, A, Q>,
  handle: (request: HttpRequest<BodyOf<S>, UserOf<A>, BodyOf<Q>>) => Promise<unknown>,
): middy.MiddyfiedHandler<APIGatewayProxyEvent, APIGatewayProxyResult> {
  const status = options.status ?? 200
  const users = new WeakMap<APIGatewayProxyEvent, AuthenticatedUser>()
  // Answer (503, and its log line) half a second before Lambda would stop the function mid-wait.
  const route = middy<APIGatewayProxyEvent, APIGatewayProxyResult>({ timeoutEarlyInMillis: 500 })
    .use(httpHeaderNormalizer())
    .use(requestLog())
  if (options.readsSecrets !== false) route.use(secrets())
  if (options.authenticated) route.use({ before: (request) => void users.set(request.event, requireAuth(request.event)) })
  if (options.body) route.use(jsonBody(options.bodyOptional ?? false))
  return route.handler(async (event, context) => {
    const user = users.get(event) as UserOf<A>
    // @middy/http-json-body-parser has replaced the body's text by the parsed JSON.
    const body = (options.body ? validateBody(options.body, event.body as unknown) : undefined) as BodyOf<S>
    const query = (options.query ? validateQuery(options.query, event.queryStringParameters) : undefined) as BodyOf<Q>
    const data = await handle({ event, context, body, query, user, client: clientInfo(event) })
    if (options.redirect) return redirectResponse(data as string)
    return jsonResponse(status, options.unwrapped ? data : { data }, options.headers)
  })
}

/**
 * 302 to `location`: a browser's hop in a provider sign-in. Never cached, and no Referer from the page it lands
 * on (the URL carries a state or a one-time code).
 */
export function redirectResponse(location: string): APIGatewayProxyResult {
  return {
    statusCode: 302,
    headers: { Location: location, 'Cache-Control': 'no-store', Pragma: 'no-cache', 'Referrer-Policy': 'no-referrer' },
    body: '',
  }
}

/** A Lambda handler answering 302 to the URL `handle` returns; a failure is the usual JSON error (never a redirect). */
export function redirectRoute<Q extends AnySchema | undefined = undefined>(
  options: Pick<RouteOptions<undefined, false, Q>, 'query'>,
  handle: (request: HttpRequest<undefined, undefined, BodyOf<Q>>) => Promise<string>,
): middy.MiddyfiedHandler<APIGatewayProxyEvent, APIGatewayProxyResult> {
  return jsonRoute({ ...options, redirect: true }, handle)
}

/** The secrets read from SSM (lib/config.ts refreshSecrets) before the handler builds anything from the configuration. */
function secrets(): middy.MiddlewareObj<APIGatewayProxyEvent, APIGatewayProxyResult> {
  return {
    before: async () => {
      const warning = await refreshSecrets()
      if (warning) logger.warn(warning, { event: 'config.secrets' })
    },
  }
}

/** Logs one structured line per request with its ids, route and outcome; maps any error to the API's error body. */
function requestLog(): middy.MiddlewareObj<APIGatewayProxyEvent, APIGatewayProxyResult> {
  const started = new WeakMap<object, number>()
  const elapsed = (request: { context: object }): number =>
    Math.round((performance.now() - (started.get(request.context) ?? performance.now())) * 10) / 10
  return {
    before: (request) => {
      started.set(request.context, performance.now())
      logger.addContext(request.context)
      const { sourceIp, userAgent } = clientInfo(request.event)
      // On every line of the request, so each authentication event says where it came from.
      logger.appendKeys({
        apiRequestId: request.event.requestContext?.requestId,
        route: `${request.event.httpMethod} ${request.event.resource ?? request.event.path}`,
        sourceIp,
        userAgent,
      })
    },
    after: (request) => {
      logger.info('request completed', { status: request.response?.statusCode, durationMs: elapsed(request) })
      logger.resetKeys()
    },
    onError: (request) => {
      const error = toApiError(request.error)
      if (error.expose) {
        const refusal = { status: error.status, code: error.code, reason: error.reason, detail: error.message }
        logger.info('request refused', { ...refusal, durationMs: elapsed(request) })
      } else {
        logger.error('request failed', { status: error.status, code: error.code, error: error.cause, durationMs: elapsed(request) })
      }
      logger.resetKeys()
      request.response = errorResponse(error)
    },
  }
}
