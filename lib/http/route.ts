/**
 * HTTP framing for API Gateway REST (v1) proxy events: the middy stack every handler shares.
 * It parses and validates the JSON body, answers `{"data": ...}` on success and `{"error", "code"}`
 * on failure, and never lets a client error become a 500 or a 500 reveal anything internal.
 *
 * The stack, in order: header names to lower case; one log line per request; the caller from the
 * authorizer's context (protected routes: a 401 before the body is looked at); the body's limits (required,
 * at most MAX_BODY_BYTES, a JSON content type, UTF-8); @middy/http-json-body-parser; then the handler, which
 * validates the parsed body against the route's schema.
 */
import middy from '@middy/core'
import httpHeaderNormalizer from '@middy/http-header-normalizer'
import httpJsonBodyParser from '@middy/http-json-body-parser'
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda'
import * as v from 'valibot'
import type { ClientInfo } from './auth.js'
import { ApiError, badRequest, toApiError } from './errors.js'
import { headerValue } from './headers.js'
import { logger } from './log.js'
import type { AuthenticatedUser } from './require-auth.js'
import { requireAuth } from './require-auth.js'

export const MAX_BODY_BYTES = 16 * 1024

const RESPONSE_HEADERS = {
  'Content-Type': 'application/json; charset=utf-8',
  // Token responses must not be cached (RFC 6749 §5.1); nothing this API answers should be.
  'Cache-Control': 'no-store',
  Pragma: 'no-cache',
  'X-Content-Type-Options': 'nosniff',
} as const

export type AnySchema = v.GenericSchema<unknown, unknown>

export interface HttpRequest<Body, User> {
  event: APIGatewayProxyEvent
  context: Context
  body: Body
  /** The authenticated user, on routes behind the authorizer. */
  user: User
  /** Where the request came from (recorded on the sessions it opens). */
  client: ClientInfo
}

export interface RouteOptions<S extends AnySchema | undefined, A extends boolean> {
  /** The request body's schema; when absent the route takes no body. */
  body?: S
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
export function jsonRoute<S extends AnySchema | undefined = undefined, A extends boolean = false>(
  options: RouteOptions<S, A>,
  handle: (request: HttpRequest<BodyOf<S>, UserOf<A>>) => Promise<unknown>,
): middy.MiddyfiedHandler<APIGatewayProxyEvent, APIGatewayProxyResult> {
  const status = options.status ?? 200
  const users = new WeakMap<APIGatewayProxyEvent, AuthenticatedUser>()
  // Answer (503, and its log line) half a second before Lambda would stop the function mid-wait.
  const route = middy<APIGatewayProxyEvent, APIGatewayProxyResult>({ timeoutEarlyInMillis: 500 })
    .use(httpHeaderNormalizer())
    .use(requestLog())
  if (options.authenticated) route.use({ before: (request) => void users.set(request.event, requireAuth(request.event)) })
  if (options.body) route.use(jsonBodyLimits(options.bodyOptional ?? false)).use(httpJsonBodyParser(PARSER_OPTIONS))
  return route.handler(async (event, context) => {
    const user = users.get(event) as UserOf<A>
    const body = (options.body ? validateBody(options.body, event.body as unknown) : undefined) as BodyOf<S>
    const data = await handle({ event, context, body, user, client: clientInfo(event) })
    return jsonResponse(status, options.unwrapped ? data : { data }, options.headers)
  })
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
        logger.info('request refused', { status: error.status, code: error.code, reason: error.message, durationMs: elapsed(request) })
      } else {
        logger.error('request failed', { status: error.status, code: error.code, error: error.cause, durationMs: elapsed(request) })
      }
      logger.resetKeys()
      request.response = errorResponse(error)
    },
  }
}

const JSON_MEDIA_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i

/**
 * The content type is checked before the parser, case-insensitively as RFC 9110 wants (the parser's own
 * check is case-sensitive). `disableContentTypeCheck` is in 6.4.5's code but missing from its types.
 */
const PARSER_OPTIONS = { disableContentTypeCheck: true } as Parameters<typeof httpJsonBodyParser>[0]

/** The parser's two refusals (both 415 in @middy/http-json-body-parser 6): only malformed JSON is the client's 400. */
const MALFORMED_JSON = 'Invalid or malformed JSON was provided'

/**
 * What @middy/http-json-body-parser does not check, before it runs: a body is present (or, for an optional
 * body, read as `{}`), at most MAX_BODY_BYTES, sent as JSON (any `+json` type, any letter case), and UTF-8
 * when base64-encoded (the parser would decode invalid bytes to U+FFFD). After it, its malformed-JSON 415
 * becomes our 400.
 */
function jsonBodyLimits(optional: boolean): middy.MiddlewareObj<APIGatewayProxyEvent, APIGatewayProxyResult> {
  return {
    before: ({ event }) => {
      const raw = event.body
      if (raw === null || raw === undefined || raw.length === 0) {
        if (!optional) throw badRequest('Request body is required')
        event.body = '{}'
        event.isBase64Encoded = false
        return
      }
      const size = event.isBase64Encoded ? Math.floor((raw.length * 3) / 4) : Buffer.byteLength(raw, 'utf8')
      if (size > MAX_BODY_BYTES) throw new ApiError('PAYLOAD_TOO_LARGE', `Request body must be at most ${MAX_BODY_BYTES} bytes`)
      const contentType = header(event, 'content-type')
      if (contentType === undefined || !JSON_MEDIA_TYPE.test(contentType)) {
        throw new ApiError('UNSUPPORTED_MEDIA_TYPE', 'Content-Type must be application/json')
      }
      if (event.isBase64Encoded) {
        try {
          new TextDecoder('utf-8', { fatal: true }).decode(Buffer.from(raw, 'base64'))
        } catch {
          throw badRequest('Request body is not valid UTF-8')
        }
      }
    },
    onError: (request) => {
      const error = request.error as { message?: unknown; cause?: { package?: unknown } } | null
      if (error?.cause?.package !== '@middy/http-json-body-parser') return
      request.error =
        error.message === MALFORMED_JSON
          ? badRequest('Request body is not valid JSON')
          : new ApiError('UNSUPPORTED_MEDIA_TYPE', 'Content-Type must be application/json')
    },
  }
}

/** The parsed body, checked against the route's schema. */
function validateBody<S extends AnySchema>(schema: S, json: unknown): v.InferOutput<S> {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw badRequest('Request body must be a JSON object')
  const result = v.safeParse(schema, json)
  if (!result.success) throw badRequest(describeIssue(result.issues[0]))
  return result.output
}

const MAX_USER_AGENT = 512

/** Characters a PostgreSQL text column refuses (NUL) or mangles (lone surrogates), with the other control characters. */
const UNSTORABLE = /[\p{Cc}\p{Cs}]/gu

/** A client-supplied value fit to store: control characters and lone surrogates dropped, bounded without splitting a pair. */
function storable(value: string | undefined, max: number): string | null {
  if (!value) return null
  let text = value.length > max * 4 ? value.slice(0, max * 4) : value
  text = text.replace(UNSTORABLE, '')
  if (text.length > max) text = text.slice(0, /[\uD800-\uDBFF]/.test(text.charAt(max - 1)) ? max - 1 : max)
  return text.length > 0 ? text : null
}

/** The client's address as API Gateway saw it, and its User-Agent (cleaned and bounded: it is stored on sessions). */
export function clientInfo(event: APIGatewayProxyEvent): ClientInfo {
  const sourceIp = event.requestContext?.identity?.sourceIp
  return {
    userAgent: storable(header(event, 'user-agent'), MAX_USER_AGENT),
    sourceIp: typeof sourceIp === 'string' ? storable(sourceIp, 64) : null,
  }
}

function describeIssue(issue: v.BaseIssue<unknown> | undefined): string {
  if (!issue) return 'Invalid request body'
  const path = v.getDotPath(issue)
  if (path && issue.kind === 'schema' && issue.input === undefined) return `${path} is required`
  // Our schemas write messages that name the field; valibot's own get the path prefixed.
  return path && !issue.message.startsWith(path) ? `${path}: ${issue.message}` : issue.message
}

/** A request header by name, case-insensitively (headers are normalised to lower case by the middy stack). */
export function header(event: Pick<APIGatewayProxyEvent, 'headers'>, name: string): string | undefined {
  return headerValue(event.headers, name)
}
