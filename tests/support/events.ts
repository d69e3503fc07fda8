/**
 * API Gateway events built from AWS's own samples (tests/fixtures/aws-events, from aws/aws-lambda-go),
 * changed only where a test needs it: method, path, headers, body, authorizer context.
 */
import { readFileSync } from 'node:fs'
import type {
  APIGatewayProxyEvent,
  APIGatewayProxyResult,
  APIGatewayRequestAuthorizerEvent,
  APIGatewayTokenAuthorizerEvent,
  Context,
} from 'aws-lambda'

const fixture = <T>(name: string): T => JSON.parse(readFileSync(new URL(`../fixtures/aws-events/${name}`, import.meta.url), 'utf8')) as T

const REST_REQUEST = fixture<APIGatewayProxyEvent>('apigw-request.json')
const REQUEST_AUTHORIZER = fixture<APIGatewayRequestAuthorizerEvent>('apigw-custom-auth-request-type-request.json')
const TOKEN_AUTHORIZER = fixture<APIGatewayTokenAuthorizerEvent>('apigw-custom-auth-request.json')

export interface RestEventOptions {
  method: string
  path: string
  /** An object is sent as JSON; a string as is; undefined sends no body. */
  body?: unknown
  /** Replaces the sample's headers (Content-Type: application/json is added when a body is given, unless set). */
  headers?: Record<string, string>
  isBase64Encoded?: boolean
  /** The context an authorizer attached; REST API Gateway stringifies its values. */
  authorizer?: Record<string, string | number | boolean> | null
}

export function restEvent(options: RestEventOptions): APIGatewayProxyEvent {
  const event = structuredClone(REST_REQUEST)
  const hasBody = options.body !== undefined
  const sampleHeaders = Object.fromEntries(Object.entries(event.headers).filter(([name]) => name.toLowerCase() !== 'content-type'))
  const headers: Record<string, string> = {
    ...sampleHeaders,
    ...(hasBody && !options.headers ? { 'Content-Type': 'application/json' } : {}),
    ...(options.headers ?? {}),
  }
  event.httpMethod = options.method
  event.path = options.path
  event.resource = options.path
  event.pathParameters = null
  event.queryStringParameters = null
  event.multiValueQueryStringParameters = null
  event.headers = headers
  event.multiValueHeaders = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [v]]))
  event.body = !hasBody ? null : typeof options.body === 'string' ? options.body : JSON.stringify(options.body)
  event.isBase64Encoded = options.isBase64Encoded ?? false
  event.requestContext = {
    ...event.requestContext,
    httpMethod: options.method,
    path: `/${event.requestContext.stage}${options.path}`,
    resourcePath: options.path,
    requestId: crypto.randomUUID(),
    authorizer: options.authorizer === undefined || options.authorizer === null ? undefined : { ...options.authorizer },
  } as APIGatewayProxyEvent['requestContext']
  if (options.authorizer === null || options.authorizer === undefined) delete (event.requestContext as { authorizer?: unknown }).authorizer
  return event
}

/** A REST REQUEST authorizer event for `GET /auth/me` with the given headers. */
export function requestAuthorizerEvent(headers: Record<string, string> = {}): APIGatewayRequestAuthorizerEvent {
  const event = structuredClone(REQUEST_AUTHORIZER)
  event.methodArn = 'arn:aws:execute-api:us-east-1:123456789012:s4x3opwd6i/test/GET/auth/me'
  event.resource = '/auth/me'
  event.path = '/auth/me'
  event.httpMethod = 'GET'
  event.headers = { ...event.headers, ...headers }
  event.multiValueHeaders = Object.fromEntries(Object.entries(event.headers ?? {}).map(([k, v]) => [k, [v ?? '']]))
  return event
}

export function tokenAuthorizerEvent(authorizationToken: string): APIGatewayTokenAuthorizerEvent {
  return { ...structuredClone(TOKEN_AUTHORIZER), authorizationToken }
}

export function lambdaContext(): Context {
  const requestId = crypto.randomUUID()
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: 'attune-auth-test',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:attune-auth-test',
    memoryLimitInMB: '1024',
    awsRequestId: requestId,
    logGroupName: '/aws/lambda/attune-auth-test',
    logStreamName: '2026/11/29/[$LATEST]test',
    getRemainingTimeInMillis: () => 10_000,
    done: () => {},
    fail: () => {},
    succeed: () => {},
  }
}

export interface Parsed<T = unknown> {
  status: number
  headers: Record<string, string | number | boolean>
  body: T
}

type Handler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>

/** Invokes a handler as Lambda would and parses its JSON answer. */
export async function invoke<T = any>(handler: Handler, event: APIGatewayProxyEvent): Promise<Parsed<T>> {
  const result = await handler(event, lambdaContext())
  // A redirect (a provider sign-in's hops) has no body.
  return { status: result.statusCode, headers: result.headers ?? {}, body: (result.body === '' ? null : JSON.parse(result.body)) as T }
}

let counter = 0
/** A login no other test (or earlier run against the same database) uses. */
export function uniqueLogin(prefix = 'user'): string {
  counter += 1
  return `${prefix}-${Date.now().toString(36)}-${process.pid}-${counter}-${Math.random().toString(36).slice(2, 6)}`
}
