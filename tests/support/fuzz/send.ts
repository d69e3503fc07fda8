/**
 * Sends a generated request as API Gateway would deliver it: a real REST event (tests/support/events.ts) through
 * the real authorizer and our Gateway Response emulation for a protected route (as tests/support/api.ts does),
 * then the handler.
 */
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda'
import { authorize } from '../../../infra/local/offline-authorizer.js'
import { lambdaContext, restEvent } from '../events.js'
import { type GeneratedBody, materializeBody } from './bodies.js'
import type { CaseContext } from './case-context.js'
import type { AuthChoice, GeneratedHeaders } from './headers.js'

type Handler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>

export interface Route {
  method: string
  /** The concrete path. */
  path: string
  /** The path as docs/openapi.yaml documents it. */
  documentedPath: string
  handler: Handler
  protected: boolean
}

export interface GeneratedRequest {
  headers: GeneratedHeaders
  body: GeneratedBody
  auth?: AuthChoice
  pathParameters?: Record<string, string> | null
  /** The query string's parameters, as API Gateway passes them (null: none). */
  query?: Record<string, string> | null
}

export interface Answer {
  status: number
  headers: Record<string, unknown>
  /** The body exactly as sent. */
  raw: string
  /** The request body as the handler received it. */
  sent: { body: string | null; isBase64Encoded: boolean }
}

function headerPairs(generated: GeneratedHeaders): Array<[string, string]> {
  const pairs: Array<[string, string]> = []
  generated.contentType.names.forEach((name, i) => {
    const value = generated.contentType.values[i]
    if (value !== undefined) pairs.push([name, value])
  })
  if (generated.userAgent !== undefined) pairs.push(['User-Agent', generated.userAgent])
  pairs.push(...generated.extra)
  return pairs
}

/** Sends a generated request to a route the way API Gateway would (through the authorizer for a protected route). */
export async function send(route: Route, request: GeneratedRequest, ctx: CaseContext): Promise<Answer> {
  const authPairs = request.auth ? await ctx.authorizationHeaders(request.auth) : []
  const pairs = request.headers.none ? [] : [...headerPairs(request.headers), ...authPairs]
  // Own properties only, whatever the names (`constructor`, `__proto__`...), as JSON.parse would build them.
  const multiMap = new Map<string, string[]>()
  for (const [name, value] of pairs) multiMap.set(name, [...(multiMap.get(name) ?? []), value])
  const headerMap: Record<string, string> = Object.fromEntries([...multiMap].map(([name, values]) => [name, values.at(-1) as string]))
  const multi: Record<string, string[]> = Object.fromEntries(multiMap)
  const sent = await materializeBody(request.body, ctx.resolve)
  const { body, isBase64Encoded } = sent
  const params = request.pathParameters ?? null

  let authorizerContext: Record<string, string> | undefined
  if (route.protected) {
    const outcome = await authorize({
      method: route.method,
      path: route.path,
      resource: route.documentedPath,
      headers: headerMap,
      multiValueHeaders: multi,
      query: request.query ?? {},
      params: params ?? {},
    })
    if (!outcome.allow) return { status: outcome.status, headers: outcome.headers, raw: outcome.body, sent }
    authorizerContext = { principalId: outcome.principalId, ...outcome.context }
  }

  const event = restEvent({
    method: route.method,
    path: route.path,
    headers: headerMap,
    ...(authorizerContext ? { authorizer: authorizerContext } : {}),
  })
  if (request.headers.none) {
    ;(event as { headers: unknown }).headers = null
    ;(event as { multiValueHeaders: unknown }).multiValueHeaders = null
  } else {
    event.multiValueHeaders = { ...event.multiValueHeaders, ...multi }
  }
  event.body = body
  event.isBase64Encoded = isBase64Encoded
  event.pathParameters = params
  event.queryStringParameters = request.query ?? null
  const result = await route.handler(event, lambdaContext())
  return { status: result.statusCode, headers: result.headers ?? {}, raw: result.body, sent }
}
