/**
 * serverless-offline's custom authentication provider (`custom.offline.customAuthenticationProvider`),
 * so that `npm start` refuses a request exactly as the deployed REST API does.
 *
 * serverless-offline ignores Gateway Responses: left to itself it answers an authorizer's Deny with
 * `403 {"statusCode":403,"error":"Forbidden",...}`. Here, for each request to a route that has an
 * authorizer, we run our real authorizer (functions/authorizer.ts: lib/authorizer/decision.ts `decide` with
 * the token service built from getConfig().jwt) on a REST REQUEST event, then do what API Gateway does with
 * its answer:
 * - Authorization header missing or empty: the authorizer is not called; UNAUTHORIZED Gateway Response.
 * - Allow covering the method ARN: the request goes on with `requestContext.authorizer` holding the
 *   principalId and the context values stringified (what `requireAuth` of @attune-auth/client reads).
 * - Deny (or an Allow that does not cover the route): ACCESS_DENIED Gateway Response, rendered from the
 *   authorizer's context.
 * - the authorizer throws `Unauthorized`: UNAUTHORIZED; throws anything else (e.g. the database is
 *   unreachable for its session lookup): AUTHORIZER_FAILURE, a 503.
 * Routes without an authorizer pass through.
 *
 * The answers are rendered from serverless.yml's Gateway Responses (renderGatewayResponse, which
 * offline-gateway.cjs uses too), so there is one definition of each.
 *
 * serverless-offline loads the provider with require(), and this file is TypeScript, so
 * infra/local/offline-authorizer.cjs bundles it with esbuild when serverless-offline starts and imports
 * the bundle on the first request: a change to the authorizer's code needs a restart of `npm start`.
 *
 * The authorizer runs inside the osls process, so getConfig() reads that process's environment; on
 * stage `local`, serverless.yml takes every value it gives the functions from that same environment.
 */
import { readFileSync } from 'node:fs'
import type { APIGatewayAuthorizerResult, APIGatewayRequestAuthorizerEvent, Context } from 'aws-lambda'
import { parse } from 'yaml'
import { handler as lambdaAuthorizer } from '../../functions/authorizer.js'

export type Authorizer = (event: APIGatewayRequestAuthorizerEvent, context: Context) => Promise<APIGatewayAuthorizerResult>

/** What serverless-offline passes for the route (only the fields used here). */
export interface OfflineEndpoint {
  authorizer?: unknown
}

/** The request, as far as the authorizer event needs it. */
export interface OfflineRequest {
  method: string
  path: string
  /** The route's path pattern (API Gateway's resource), e.g. `/auth/me`. */
  resource: string
  /** Request headers with their original case. */
  headers: Record<string, string>
  multiValueHeaders: Record<string, string[]>
  query: Record<string, string>
  params: Record<string, string>
}

export type Outcome =
  | { allow: true; principalId: string; context: Record<string, string> }
  | { allow: false; status: number; headers: Record<string, string>; body: string }

/** The Gateway Responses npm start answers: the ones an authorizer leads to, and a request no route takes. */
export type GatewayResponseType = 'UNAUTHORIZED' | 'ACCESS_DENIED' | 'AUTHORIZER_FAILURE' | 'MISSING_AUTHENTICATION_TOKEN'

/** API Gateway's own status and message for each type, for what serverless.yml leaves unset. */
const AWS_DEFAULTS: Record<GatewayResponseType, { status: number; message: string | null }> = {
  UNAUTHORIZED: { status: 401, message: 'Unauthorized' },
  ACCESS_DENIED: { status: 403, message: 'User is not authorized to access this resource with an explicit deny' },
  AUTHORIZER_FAILURE: { status: 500, message: null },
  MISSING_AUTHENTICATION_TOKEN: { status: 403, message: 'Missing Authentication Token' },
}
const AWS_TEMPLATES = { 'application/json': '{"message":$context.error.messageString}' }

interface GatewayResponse {
  ResponseType?: string
  StatusCode?: string
  ResponseParameters?: Record<string, string>
  ResponseTemplates?: Record<string, string>
}

/**
 * serverless.yml. This file and its bundle (.build/offline-authorizer/, see offline-authorizer.cjs) are both two
 * folders below the project, so the same relative path finds it.
 */
const SERVERLESS_YML = new URL('../../serverless.yml', import.meta.url)
let deployed: GatewayResponse[] | undefined

/** The Gateway Responses of a serverless.yml (by default the project's, read once). */
function gatewayResponses(serverlessYml?: string): GatewayResponse[] {
  if (serverlessYml === undefined) {
    deployed ??= gatewayResponses(readFileSync(SERVERLESS_YML, 'utf8'))
    return deployed
  }
  // logLevel 'error': CloudFormation's tags (!Ref, !GetAtt, ...) are unknown to a plain YAML parser.
  const resources = parse(serverlessYml, { logLevel: 'error' })?.resources?.Resources ?? {}
  return Object.values<{ Type?: string; Properties?: GatewayResponse }>(resources)
    .filter((resource) => resource?.Type === 'AWS::ApiGateway::GatewayResponse')
    .map((resource) => resource.Properties ?? {})
}

/**
 * A Gateway Response of serverless.yml as API Gateway renders it: the one of `type`, else DEFAULT_4XX or
 * DEFAULT_5XX, else API Gateway's own. In its template, `$context.authorizer.<key>` is the authorizer's context
 * value, `$context.error.message` (`messageString`: quoted) API Gateway's message, any other variable nothing.
 */
export function renderGatewayResponse(
  type: GatewayResponseType,
  authorizerContext: Readonly<Record<string, unknown>> = {},
  serverlessYml?: string,
): Extract<Outcome, { allow: false }> {
  const responses = gatewayResponses(serverlessYml)
  const ofType = (name: string): GatewayResponse | undefined => responses.find((response) => response.ResponseType === name)
  const aws = AWS_DEFAULTS[type]
  const response = ofType(type) ?? ofType(aws.status < 500 ? 'DEFAULT_4XX' : 'DEFAULT_5XX') ?? {}
  const templates = Object.entries(response.ResponseTemplates ?? AWS_TEMPLATES)
  const [contentType, template] = templates.find(([name]) => name === 'application/json') ?? templates[0] ?? ['', '']
  const headers: Record<string, string> = {}
  for (const [key, value] of Object.entries(response.ResponseParameters ?? {})) {
    const name = /^gatewayresponse\.header\.(.+)$/.exec(key)?.[1]
    const literal = /^'(.*)'$/s.exec(String(value))?.[1]
    if (!name || literal === undefined)
      throw new Error(`serverless.yml: ${key}: ${value} is not a header with a quoted literal value, the only kind npm start renders`)
    headers[name] = literal
  }
  if (!Object.keys(headers).some((name) => name.toLowerCase() === 'content-type')) headers['Content-Type'] = contentType
  const variables: Record<string, unknown> = {
    'error.message': aws.message,
    'error.messageString': JSON.stringify(aws.message),
    'error.responseType': type,
  }
  for (const [key, value] of Object.entries(authorizerContext)) variables[`authorizer.${key}`] = value
  const body = template.replace(/\$context\.([\w.]+)/g, (_, name: string) => String(variables[name] ?? ''))
  return { allow: false, status: Number(response.StatusCode ?? aws.status), headers, body }
}

const ACCOUNT_ID = '123456789012'
const API_ID = 'offline'
const STAGE = 'local'

export function methodArn(request: Pick<OfflineRequest, 'method' | 'path'>): string {
  return `arn:aws:execute-api:us-east-1:${ACCOUNT_ID}:${API_ID}/${STAGE}/${request.method.toUpperCase()}${request.path}`
}

/** The REST REQUEST authorizer event API Gateway would send for this request. */
export function authorizerEvent(request: OfflineRequest): APIGatewayRequestAuthorizerEvent {
  const now = new Date()
  const requestId = crypto.randomUUID()
  const httpMethod = request.method.toUpperCase()
  return {
    type: 'REQUEST',
    methodArn: methodArn(request),
    resource: request.resource,
    path: request.path,
    httpMethod,
    headers: request.headers,
    multiValueHeaders: request.multiValueHeaders,
    pathParameters: Object.keys(request.params).length > 0 ? request.params : null,
    queryStringParameters: Object.keys(request.query).length > 0 ? request.query : null,
    multiValueQueryStringParameters: null,
    stageVariables: null,
    requestContext: {
      accountId: ACCOUNT_ID,
      apiId: API_ID,
      authorizer: undefined,
      domainName: 'localhost',
      domainPrefix: 'localhost',
      extendedRequestId: requestId,
      httpMethod,
      identity: {
        accessKey: null,
        accountId: null,
        apiKey: null,
        apiKeyId: null,
        caller: null,
        clientCert: null,
        cognitoAuthenticationProvider: null,
        cognitoAuthenticationType: null,
        cognitoIdentityId: null,
        cognitoIdentityPoolId: null,
        principalOrgId: null,
        sourceIp: '127.0.0.1',
        user: null,
        userAgent: request.headers['user-agent'] ?? request.headers['User-Agent'] ?? null,
        userArn: null,
      },
      path: `/${STAGE}${request.path}`,
      protocol: 'HTTP/1.1',
      requestId,
      requestTime: now.toUTCString(),
      requestTimeEpoch: now.getTime(),
      resourceId: 'offline',
      resourcePath: request.resource,
      stage: STAGE,
    },
  } as APIGatewayRequestAuthorizerEvent
}

/** The Lambda context of one authorizer invocation, as Lambda would pass it. */
export function authorizerContext(): Context {
  const functionName = `attune-auth-${STAGE}-authorizer`
  const deadline = Date.now() + 5_000 // serverless.yml: the authorizer's timeout
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:${ACCOUNT_ID}:function:${functionName}`,
    memoryLimitInMB: '256',
    awsRequestId: crypto.randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'offline',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => {},
    fail: () => {},
    succeed: () => {},
  }
}

/** API Gateway's identity-source check: the header must be present and not empty. */
function hasIdentitySource(headers: Record<string, string>): boolean {
  for (const [name, value] of Object.entries(headers)) if (name.toLowerCase() === 'authorization' && value.trim() !== '') return true
  return false
}

/** Does an IAM policy statement list Allow `execute-api:Invoke` on this method ARN (with `*` wildcards)? */
export function policyAllows(result: APIGatewayAuthorizerResult, arn: string): boolean {
  const matches = (pattern: string): boolean =>
    new RegExp(
      `^${pattern
        .split('*')
        .map((part) => part.replace(/[.+?^${}()|[\]\\/]/g, '\\$&'))
        .join('.*')}$`,
    ).test(arn)
  const list = (value: string | string[] | undefined): string[] => (value === undefined ? [] : Array.isArray(value) ? value : [value])
  let allowed = false
  for (const statement of result.policyDocument?.Statement ?? []) {
    const { Effect, Action, Resource } = statement as { Effect: string; Action?: string | string[]; Resource?: string | string[] }
    const actionMatches = list(Action).some((action) => action === '*' || action === 'execute-api:*' || action === 'execute-api:Invoke')
    if (!actionMatches || !list(Resource).some(matches)) continue
    if (Effect === 'Deny') return false
    if (Effect === 'Allow') allowed = true
  }
  return allowed
}

/** API Gateway passes authorizer context values on as strings. */
function stringify(context: APIGatewayAuthorizerResult['context']): Record<string, string> {
  return Object.fromEntries(Object.entries(context ?? {}).map(([key, value]) => [key, String(value)]))
}

/** What API Gateway does with a request to a route protected by the authorizer. */
export async function authorize(request: OfflineRequest, authorizer: Authorizer = lambdaAuthorizer): Promise<Outcome> {
  if (!hasIdentitySource(request.headers)) return renderGatewayResponse('UNAUTHORIZED')
  const event = authorizerEvent(request)
  let result: APIGatewayAuthorizerResult
  try {
    result = await authorizer(event, authorizerContext())
  } catch (error) {
    if (error instanceof Error && error.message === 'Unauthorized') return renderGatewayResponse('UNAUTHORIZED')
    console.error('offline authorizer: the authorizer failed; answering as API Gateway would (AUTHORIZER_FAILURE)', error)
    return renderGatewayResponse('AUTHORIZER_FAILURE')
  }
  if (!policyAllows(result, event.methodArn)) return renderGatewayResponse('ACCESS_DENIED', result.context ?? {})
  return { allow: true, principalId: result.principalId, context: stringify(result.context) }
}

// --- the hapi side (serverless-offline runs hapi) -------------------------------------------------

interface HapiResponse {
  code(status: number): HapiResponse
  header(name: string, value: string): HapiResponse
  takeover(): HapiResponse
}

export interface HapiToolkit {
  authenticated(data: { credentials: Record<string, unknown> }): unknown
  response(body: string): HapiResponse
}

export interface HapiRequest {
  method: string
  path: string
  params?: Record<string, string> | null
  query?: Record<string, string | string[]> | null
  route: { path: string }
  raw: { req: { rawHeaders: string[] } }
}

export function toOfflineRequest(request: HapiRequest): OfflineRequest {
  const headers: Record<string, string> = {}
  const multiValueHeaders: Record<string, string[]> = {}
  const raw = request.raw.req.rawHeaders
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i] as string
    const value = raw[i + 1] as string
    headers[name] = value
    multiValueHeaders[name] ??= []
    multiValueHeaders[name].push(value)
  }
  const query: Record<string, string> = {}
  for (const [key, value] of Object.entries(request.query ?? {})) query[key] = Array.isArray(value) ? (value.at(-1) ?? '') : value
  return {
    method: request.method,
    path: request.path,
    resource: request.route.path,
    headers,
    multiValueHeaders,
    query,
    params: { ...(request.params ?? {}) },
  }
}

/** hapi's `authenticate` for one route: public routes pass, protected ones get API Gateway's treatment. */
export async function authenticate(endpoint: OfflineEndpoint, request: HapiRequest, h: HapiToolkit): Promise<unknown> {
  if (!endpoint.authorizer) return h.authenticated({ credentials: {} })
  const outcome = await authorize(toOfflineRequest(request))
  if (outcome.allow) return h.authenticated({ credentials: { principalId: outcome.principalId, context: outcome.context } })
  let response = h.response(outcome.body).code(outcome.status)
  for (const [name, value] of Object.entries(outcome.headers)) response = response.header(name, value)
  return response.takeover()
}
