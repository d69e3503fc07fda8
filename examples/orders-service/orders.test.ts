/**
 * The orders service (another team's API, examples/orders-service) run locally against Attune Auth's real
 * authorizer (functions/authorizer.ts: token verification and session lookup on the test PostgreSQL), the
 * way API Gateway runs them: first the authorizer, on the event API Gateway sends for the example's route
 * (an API of its own, not ours); on Allow, the example's handler with the authorizer's context in its event;
 * on a refusal, what the example's API answers. Users are real: registered through our own handlers; so are the
 * service accounts and API keys that call the API as another service would (made with `npm run admin`'s verbs).
 * The REST API declares route requirements (route-requirements.json, loaded with `npm run admin`): `GET /orders`
 * needs `orders:read`, enforced, then in report mode.
 */
import { randomUUID } from 'node:crypto'
import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import type { AuthenticatedUser } from '@attune-auth/client'
import { BEARER_CHALLENGE, REASONS, requireAuth } from '@attune-auth/client'
import type {
  APIGatewayAuthorizerResult,
  APIGatewayProxyEvent,
  APIGatewayProxyEventV2WithLambdaAuthorizer,
  APIGatewayProxyStructuredResultV2,
  APIGatewayRequestAuthorizerEvent,
  APIGatewayRequestAuthorizerEventV2,
} from 'aws-lambda'
import { beforeAll, describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { handler as attuneAuthorizer } from '../../functions/authorizer.js'
import { runAdmin } from '../../infra/admin.js'
import { policyAllows } from '../../infra/local/offline-authorizer.js'
import { getApp } from '../../lib/app.js'
import { setLogLevel } from '../../lib/log.js'
import type { RegisteredUser } from '../../tests/support/api.js'
import { api, registerUser } from '../../tests/support/api.js'
import { captureLogs } from '../../tests/support/capture-logs.js'
import type { Parsed } from '../../tests/support/events.js'
import { invoke, requestAuthorizerEvent, restEvent } from '../../tests/support/events.js'
import * as orders from './functions/orders.js'

const fixture = <T>(name: string): T =>
  JSON.parse(readFileSync(new URL(`../../tests/fixtures/aws-events/${name}`, import.meta.url), 'utf8')) as T

// logLevel 'error': CloudFormation's !Ref / !GetAtt tags in our serverless.yml are not YAML's business here.
const readYaml = (path: string): any => parse(readFileSync(new URL(path, import.meta.url), 'utf8'), { logLevel: 'error' })
const example = readYaml('./serverless.yml')
const attune = readYaml('../../serverless.yml')

const MISSING = { error: 'Missing authentication token', code: 'UNAUTHORIZED', reason: 'token_missing' }
const INVALID = { error: 'Invalid authentication token', code: 'UNAUTHORIZED', reason: 'token_invalid' }
const ENDED = { error: 'Session has ended', code: 'UNAUTHORIZED', reason: 'session_ended' }
const UNAUTHENTICATED = { error: REASONS.unauthenticated.message, code: 'UNAUTHORIZED', reason: 'unauthenticated' }
/** A missing permission, as the example's ACCESS_DENIED renders it: no sign-in values (those are for `min_acr`, `max_age`). */
const FORBIDDEN = {
  error: REASONS.permission_missing.message,
  code: 'FORBIDDEN',
  reason: 'permission_missing',
  acr_values: '',
  max_age: '',
}

const admin = (...argv: string[]) => runAdmin(argv, getApp().sql)
const REQUIREMENTS = new URL('./route-requirements.json', import.meta.url).pathname

/** A user with a live session who may read orders, one who may not, and one whose session ended with a logout. */
let user: RegisteredUser
let visitor: RegisteredUser
let loggedOut: RegisteredUser
let sessionId: string

beforeAll(async () => {
  ;[user, visitor, loggedOut] = await Promise.all([registerUser(), registerUser(), registerUser()])
  expect((await api.logout(loggedOut.tokens.access_token)).status).toBe(200)
  sessionId = JSON.parse(Buffer.from(user.tokens.access_token.split('.')[1] ?? '', 'base64url').toString())['sid']
  // The orders team's deploy step: its REST API's requirements, then a role that meets them.
  await admin('set-route-requirements', 'ordersapi', REQUIREMENTS)
  await admin('create-role', 'orders-clerk', 'orders:read')
  await admin('grant-role', user.login, 'orders-clerk')
})

const ownerOf = (u: RegisteredUser) => ({ identityId: u.identityId, login: u.login })

// --- REST API: GET /orders on the orders service's own REST API (stage dev) -------------------------

const REST_METHOD_ARN = 'arn:aws:execute-api:us-east-1:123456789012:ordersapi/dev/GET/orders'

/** The REQUEST authorizer event API Gateway sends for `GET /orders` of the orders API. */
function restAuthorizerEvent(headers: Record<string, string>): APIGatewayRequestAuthorizerEvent {
  const event = requestAuthorizerEvent(headers)
  Object.assign(event, { methodArn: REST_METHOD_ARN, resource: '/orders', path: '/orders', httpMethod: 'GET' })
  Object.assign(event.requestContext, { apiId: 'ordersapi', stage: 'dev', path: '/dev/orders', resourcePath: '/orders', httpMethod: 'GET' })
  return event
}

/** A Gateway Response of the example's serverless.yml, rendered as API Gateway renders it. */
function gatewayResponse(type: 'ACCESS_DENIED' | 'UNAUTHORIZED', authorizerContext: Record<string, unknown> = {}): Parsed<any> {
  const resource = Object.values<any>(example.resources.Resources).find(
    (r) => r.Type === 'AWS::ApiGateway::GatewayResponse' && r.Properties.ResponseType === type,
  )
  if (!resource) throw new Error(`examples/orders-service/serverless.yml has no ${type} Gateway Response`)
  const { StatusCode, ResponseParameters, ResponseTemplates } = resource.Properties
  const headers = Object.fromEntries(
    Object.entries<string>(ResponseParameters).map(([name, value]) => [name.replace('gatewayresponse.header.', ''), value.slice(1, -1)]),
  )
  const body = (ResponseTemplates['application/json'] as string).replace(/\$context\.authorizer\.(\w+)/g, (_, key: string) =>
    String(authorizerContext[key] ?? ''),
  )
  return { status: Number(StatusCode), headers, body: JSON.parse(body) }
}

/**
 * `GET /orders` through the orders service's REST API: what API Gateway does with the authorizer the
 * example configures (identity source: the Authorization header; no result cache).
 */
async function restGetOrders(headers: Record<string, string>): Promise<Parsed<any>> {
  // The identity source is missing: API Gateway refuses without calling the authorizer.
  if (!Object.entries(headers).some(([name, value]) => name.toLowerCase() === 'authorization' && value.trim() !== '')) {
    return gatewayResponse('UNAUTHORIZED')
  }
  let result: Awaited<ReturnType<typeof attuneAuthorizer>>
  try {
    result = await attuneAuthorizer(restAuthorizerEvent(headers))
  } catch (error) {
    // The authorizer's `Unauthorized`: API Gateway's own 401.
    if (error instanceof Error && error.message === 'Unauthorized') return gatewayResponse('UNAUTHORIZED')
    throw error
  }
  if (!policyAllows(result, REST_METHOD_ARN)) return gatewayResponse('ACCESS_DENIED', result.context ?? {})
  return invoke(orders.restHandler, restOrdersEvent(result))
}

/** The event of `GET /orders` that API Gateway hands the handler after an Allow: the principal and the context, every value as a string. */
function restOrdersEvent(result: APIGatewayAuthorizerResult): APIGatewayProxyEvent {
  const context = Object.fromEntries(Object.entries(result.context ?? {}).map(([key, value]) => [key, String(value)]))
  return restEvent({ method: 'GET', path: '/orders', authorizer: { principalId: result.principalId, ...context } })
}

describe('the orders service on a REST API, behind our authorizer', () => {
  it('lists the orders of the user whose access token the authorizer allowed', async () => {
    const res = await restGetOrders({ Authorization: `Bearer ${user.tokens.access_token}` })
    expect(res.status).toBe(200)
    expect(res.headers).toMatchObject({ 'Content-Type': 'application/json' })
    expect(res.body.data.owner).toEqual(ownerOf(user))
    expect(res.body.data.orders.length).toBeGreaterThan(0)
  })

  it("gets an Allow for every route of the orders API's stage, and for no other API", async () => {
    const result = await attuneAuthorizer(restAuthorizerEvent({ Authorization: `Bearer ${user.tokens.access_token}` }))
    expect(result.principalId).toBe(String(user.identityId))
    expect(result.context).toEqual({
      ...ownerOf(user),
      sessionId,
      roles: 'orders-clerk',
      permissions: 'orders:read',
      acr: 'aal1',
      amr: 'pwd',
      authTime: expect.any(Number),
    })
    expect(policyAllows(result, REST_METHOD_ARN)).toBe(true)
    expect(policyAllows(result, 'arn:aws:execute-api:us-east-1:123456789012:ordersapi/dev/POST/orders/42')).toBe(true)
    expect(policyAllows(result, 'arn:aws:execute-api:us-east-1:123456789012:ordersapi/prod/GET/orders')).toBe(false)
    expect(policyAllows(result, 'arn:aws:execute-api:us-east-1:123456789012:otherapi/dev/GET/orders')).toBe(false)
  })

  it('answers 401 with a Bearer challenge without an Authorization header, with a garbage token, a non-Bearer credential or a logged-out session', async () => {
    for (const headers of [
      {},
      { Authorization: 'Bearer not.a.jwt' },
      { Authorization: `Basic ${Buffer.from('alice:secret').toString('base64')}` },
      { Authorization: `Bearer ${loggedOut.tokens.access_token}` },
    ]) {
      expect(await restGetOrders(headers), JSON.stringify(headers)).toEqual({
        status: 401,
        headers: { 'Content-Type': 'application/json', 'Cache-Control': 'no-store', 'WWW-Authenticate': BEARER_CHALLENGE },
        body: UNAUTHENTICATED,
      })
    }
  })

  it('answers 403 FORBIDDEN, enforced by the authorizer, to a signed-in user without orders:read; the handler never runs', async () => {
    const result = await attuneAuthorizer(restAuthorizerEvent({ Authorization: `Bearer ${visitor.tokens.access_token}` }))
    expect(policyAllows(result, REST_METHOD_ARN)).toBe(false)
    // The rest of the API stays open to them: the policy denies only the routes with unmet requirements.
    expect(policyAllows(result, 'arn:aws:execute-api:us-east-1:123456789012:ordersapi/dev/GET/health')).toBe(true)
    expect(await restGetOrders({ Authorization: `Bearer ${visitor.tokens.access_token}` })).toEqual({
      status: 403,
      headers: {
        'Content-Type': 'application/json',
        'Cache-Control': 'no-store',
        'WWW-Authenticate': `${BEARER_CHALLENGE}, error="insufficient_scope"`,
      },
      body: FORBIDDEN,
    })
  })

  it('lets the same user through in report mode, and logs what enforcing would refuse', async () => {
    const report = JSON.parse(readFileSync(REQUIREMENTS, 'utf8'))
    for (const requirement of report.requirements) requirement.mode = 'report'
    const file = `${REQUIREMENTS}.report-${process.pid}.json`
    writeFileSync(file, JSON.stringify(report))
    const logs = captureLogs()
    setLogLevel('info')
    try {
      await admin('set-route-requirements', 'ordersapi', file)
      const res = await restGetOrders({ Authorization: `Bearer ${visitor.tokens.access_token}` })
      expect(res.status).toBe(200)
      expect(res.body.data.owner).toEqual(ownerOf(visitor))
    } finally {
      setLogLevel('silent')
      logs.stop()
      rmSync(file)
      await admin('set-route-requirements', 'ordersapi', REQUIREMENTS)
    }
    expect(logs.entries().filter((entry) => entry['message'] === 'would_deny')).toEqual([
      expect.objectContaining({ apiId: 'ordersapi', route: 'GET/orders', missing: ['orders:read'], identityId: visitor.identityId }),
    ])
    expect((await restGetOrders({ Authorization: `Bearer ${visitor.tokens.access_token}` })).status).toBe(403)
  })
})

// --- HTTP API: GET /v2/orders on the orders service's HTTP API ($default stage) ---------------------

const HTTP_ROUTE_ARN = 'arn:aws:execute-api:us-east-1:123456789012:ordershttp/$default/GET/v2/orders'

/** The payload 2.0 authorizer event HTTP API sends for `GET /v2/orders`: header names in lower case. */
function httpAuthorizerEvent(headers: Record<string, string>): APIGatewayRequestAuthorizerEventV2 {
  const event = fixture<APIGatewayRequestAuthorizerEventV2>('apigw-v2-custom-authorizer-v2-request.json')
  const sampleHeaders = Object.fromEntries(Object.entries(event.headers ?? {}).map(([name, value]) => [name.toLowerCase(), value]))
  Object.assign(event, {
    routeArn: HTTP_ROUTE_ARN,
    routeKey: 'GET /v2/orders',
    rawPath: '/v2/orders',
    rawQueryString: '',
    headers: { ...sampleHeaders, ...headers },
    identitySource: Object.values(headers),
  })
  delete event.queryStringParameters
  delete event.pathParameters
  Object.assign(event.requestContext, {
    apiId: 'ordershttp',
    routeKey: 'GET /v2/orders',
    http: { ...event.requestContext.http, method: 'GET', path: '/v2/orders' },
  })
  return event
}

/** The payload 2.0 event of `GET /v2/orders` after a Lambda authorizer: its context in `requestContext.authorizer.lambda`. */
function httpEvent(lambda: Record<string, unknown> | undefined): APIGatewayProxyEventV2WithLambdaAuthorizer<AuthenticatedUser> {
  const event = fixture<APIGatewayProxyEventV2WithLambdaAuthorizer<AuthenticatedUser>>('apigw-v2-request-lambda-authorizer.json')
  Object.assign(event, { routeKey: 'GET /v2/orders', rawPath: '/v2/orders', rawQueryString: '', isBase64Encoded: false })
  delete event.body
  delete event.queryStringParameters
  delete event.pathParameters
  Object.assign(event.requestContext, {
    apiId: 'ordershttp',
    routeKey: 'GET /v2/orders',
    http: { ...event.requestContext.http, method: 'GET', path: '/v2/orders' },
  })
  if (lambda === undefined) delete (event.requestContext as { authorizer?: unknown }).authorizer
  else (event.requestContext as { authorizer: unknown }).authorizer = { lambda }
  return event
}

async function httpGetOrders(lambda: Record<string, unknown> | undefined): Promise<Parsed<any>> {
  const result: APIGatewayProxyStructuredResultV2 = await orders.httpHandler(httpEvent(lambda))
  return { status: result.statusCode ?? 200, headers: result.headers ?? {}, body: JSON.parse(result.body ?? 'null') }
}

describe('the orders service on an HTTP API, behind our authorizer', () => {
  it("lists the orders of the user the authorizer's simple response authorized", async () => {
    const result = await attuneAuthorizer(httpAuthorizerEvent({ authorization: `Bearer ${user.tokens.access_token}` }))
    expect(result).toEqual({
      isAuthorized: true,
      context: {
        ...ownerOf(user),
        sessionId,
        roles: 'orders-clerk',
        permissions: 'orders:read',
        acr: 'aal1',
        amr: 'pwd',
        authTime: expect.any(Number),
      },
    })
    if (!('isAuthorized' in result)) throw new Error('expected a simple response')
    const res = await httpGetOrders(result.context)
    expect(res.status).toBe(200)
    expect(res.body.data.owner).toEqual(ownerOf(user))
    expect(res.body.data.orders.length).toBeGreaterThan(0)
  })

  it('is not authorized without a token, with a garbage token or with a logged-out session', async () => {
    for (const [headers, expected] of [
      [{}, MISSING],
      [{ authorization: 'Bearer not.a.jwt' }, INVALID],
      [{ authorization: `Bearer ${loggedOut.tokens.access_token}` }, ENDED],
    ] as const) {
      expect(await attuneAuthorizer(httpAuthorizerEvent(headers)), JSON.stringify(headers)).toEqual({
        isAuthorized: false,
        context: expected,
      })
    }
  })
})

// --- calling it as a service: a service account's API key instead of a user's token ----------------

/** A service account (`npm run admin -- create-service-account`) holding `roles`: its identity id and name. */
async function serviceAccount(...roles: string[]): Promise<{ identityId: number; name: string }> {
  const name = `orders-sync-${randomUUID().slice(0, 8)}`
  const [created = ''] = await admin('create-service-account', name)
  for (const role of roles) await admin('grant-role', `service:${name}`, role)
  return { identityId: Number(/\(identity (\d+)\)/.exec(created)?.[1]), name }
}

/** `npm run admin -- create-key`: the key (printed once, on the last line) and its id. */
async function createKey(account: string, ...options: string[]): Promise<{ key: string; keyId: string }> {
  const lines = await admin('create-key', account, 'orders sync', ...options)
  return { key: lines.at(-1) ?? '', keyId: /^key ([0-9a-f-]{36}) /.exec(lines[0] ?? '')?.[1] ?? '' }
}

describe('the orders service called by another service, with a service account’s API key', () => {
  let clerk: { identityId: number; name: string }
  let key: string
  let keyId: string

  beforeAll(async () => {
    clerk = await serviceAccount('orders-clerk')
    ;({ key, keyId } = await createKey(clerk.name, '--scopes', 'orders:read'))
    expect(key).toMatch(/^atk_test_[0-9A-Za-z]{49}$/)
  })

  it('lists the orders on the REST API for a key holding orders:read; requireAuth sees a service principal', async () => {
    const headers = { Authorization: `Bearer ${key}` }
    const res = await restGetOrders(headers)
    expect(res.status).toBe(200)
    expect(res.body.data.owner).toEqual({ identityId: clerk.identityId, login: `service:${clerk.name}` })
    expect(res.body.data.orders.map((order: { id: string }) => order.id)).toEqual([`${clerk.identityId}-1001`, `${clerk.identityId}-1002`])
    // What the handler's requireAuth(event) answers on the event API Gateway hands it.
    const result = await attuneAuthorizer(restAuthorizerEvent(headers))
    expect(result.principalId).toBe(String(clerk.identityId))
    expect(requireAuth(restOrdersEvent(result))).toEqual({
      identityId: clerk.identityId,
      login: `service:${clerk.name}`,
      sessionId: keyId,
      roles: ['orders-clerk'],
      permissions: ['orders:read'],
      acr: 'aal1',
      amr: [],
      authTime: 0,
      principalType: 'service',
      keyId,
    })
  })

  it('lists the orders on the HTTP API too, a service principal in the simple response', async () => {
    const result = await attuneAuthorizer(httpAuthorizerEvent({ authorization: `Bearer ${key}` }))
    if (!('isAuthorized' in result)) throw new Error('expected a simple response')
    expect(result).toMatchObject({ isAuthorized: true, context: { principalType: 'service', keyId, permissions: 'orders:read' } })
    expect(requireAuth(httpEvent(result.context))).toMatchObject({ identityId: clerk.identityId, principalType: 'service', keyId })
    const res = await httpGetOrders(result.context)
    expect(res.status).toBe(200)
    expect(res.body.data.owner).toEqual({ identityId: clerk.identityId, login: `service:${clerk.name}` })
  })

  it('answers 403 FORBIDDEN to a key whose account lacks orders:read, never granted or taken away; the handler never runs', async () => {
    const forbidden = {
      status: 403,
      headers: {
        'Content-Type': 'application/json',
        'Cache-Control': 'no-store',
        'WWW-Authenticate': `${BEARER_CHALLENGE}, error="insufficient_scope"`,
      },
      body: FORBIDDEN,
    }
    const stranger = await serviceAccount()
    const strangerKey = await createKey(stranger.name)
    expect(await restGetOrders({ Authorization: `Bearer ${strangerKey.key}` })).toEqual(forbidden)
    // A key's permissions are its scopes that its account still holds: taking the role reaches the key at once.
    const former = await serviceAccount('orders-clerk')
    const formerKey = await createKey(former.name, '--scopes', 'orders:read')
    expect((await restGetOrders({ Authorization: `Bearer ${formerKey.key}` })).status).toBe(200)
    await admin('revoke-role', `service:${former.name}`, 'orders-clerk')
    expect(await restGetOrders({ Authorization: `Bearer ${formerKey.key}` })).toEqual(forbidden)
  })

  it("answers API Gateway's own 401 to a revoked key, and to one with a mistyped character", async () => {
    const revoked = await createKey(clerk.name, '--scopes', 'orders:read')
    expect((await restGetOrders({ Authorization: `Bearer ${revoked.key}` })).status).toBe(200)
    expect(await admin('revoke-key', clerk.name, revoked.keyId)).toEqual([`revoked ${revoked.keyId}`])
    const mistyped = `${key.slice(0, 20)}${key[20] === 'a' ? 'b' : 'a'}${key.slice(21)}`
    for (const credential of [revoked.key, mistyped]) {
      expect(await restGetOrders({ Authorization: `Bearer ${credential}` })).toEqual({
        status: 401,
        headers: { 'Content-Type': 'application/json', 'Cache-Control': 'no-store', 'WWW-Authenticate': BEARER_CHALLENGE },
        body: UNAUTHENTICATED,
      })
    }
    // The clerk's other key is untouched.
    expect((await restGetOrders({ Authorization: `Bearer ${key}` })).status).toBe(200)
  })
})

// --- the handlers on their own -------------------------------------------------------------------

describe('the orders handlers without our authorizer context', () => {
  const refused = {
    status: 401,
    headers: { 'Content-Type': 'application/json', 'Cache-Control': 'no-store', 'WWW-Authenticate': BEARER_CHALLENGE },
    body: MISSING,
  }

  it('answer 401 with a Bearer challenge on a REST event without an authorizer context', async () => {
    expect(await invoke(orders.restHandler, restEvent({ method: 'GET', path: '/orders' }))).toEqual(refused)
    // Another authorizer's context (only a principal) is no Attune user either.
    expect(await invoke(orders.restHandler, restEvent({ method: 'GET', path: '/orders', authorizer: { principalId: 'someone' } }))).toEqual(
      refused,
    )
  })

  it('answer 401 with a Bearer challenge on an HTTP API event without an authorizer context', async () => {
    expect(await httpGetOrders(undefined)).toEqual(refused)
    // The AWS sample's own context, `{key: "value"}`: another authorizer's, not ours.
    expect(await httpGetOrders({ key: 'value' })).toEqual(refused)
  })
})

// --- the example's serverless.yml ----------------------------------------------------------------

describe('examples/orders-service/serverless.yml', () => {
  /** `${ssm:<the parameter our stack writes>}`. */
  const attuneArn = `\${ssm:${attune.resources.Resources.AuthorizerArnParameter.Properties.Name}}`

  it('is a service of its own on the Lambda Node.js 24 runtime, bundled with serverless-esbuild', () => {
    expect(example.service).toBe('orders-service')
    expect(example.service).not.toBe(attune.service)
    expect(example.provider.runtime).toBe('nodejs24.x')
    expect(example.plugins).toContain('serverless-esbuild')
  })

  it('puts our authorizer, found by the SSM parameter our stack writes, on its REST API route', () => {
    expect(attuneArn).toBe('${ssm:/attune-auth/${sls:stage}/authorizer-arn}')
    const { http } = example.functions.restOrders.events[0]
    expect(http).toMatchObject({ method: 'get', path: 'orders' })
    expect(http.authorizer).toMatchObject({
      arn: attuneArn,
      type: 'request',
      identitySource: 'method.request.header.Authorization',
      resultTtlInSeconds: 0,
    })
  })

  it('puts our authorizer, found by the same SSM parameter, on its HTTP API route, with simple responses', () => {
    const { httpApi } = example.functions.httpOrders.events[0]
    expect(httpApi).toMatchObject({ method: 'GET', path: '/v2/orders' })
    expect(example.provider.httpApi.authorizers[httpApi.authorizer.name]).toMatchObject({
      type: 'request',
      functionArn: attuneArn,
      enableSimpleResponses: true,
      payloadVersion: '2.0',
      identitySource: ['$request.header.Authorization'],
      resultTtlInSeconds: 0,
    })
  })

  it('routes each function to a handler this example exports', () => {
    for (const name of ['restOrders', 'httpOrders']) {
      const [file, exported] = (example.functions[name].handler as string).split('.')
      expect(file, name).toBe('functions/orders')
      expect(typeof (orders as Record<string, unknown>)[exported ?? ''], name).toBe('function')
    }
  })

  it("answers the authorizer's refusals as an API with route requirements: our ACCESS_DENIED at 403, UNAUTHORIZED for any bad token", () => {
    const responses = (resources: Record<string, any>) =>
      Object.fromEntries(
        Object.values(resources)
          .filter(
            (r) => r.Type === 'AWS::ApiGateway::GatewayResponse' && ['ACCESS_DENIED', 'UNAUTHORIZED'].includes(r.Properties.ResponseType),
          )
          .map(({ Properties: { ResponseType, StatusCode, ResponseParameters, ResponseTemplates } }) => [
            ResponseType,
            { StatusCode, ResponseParameters, ResponseTemplates },
          ]),
      )
    const ours = responses(attune.resources.Resources)
    const theirs = responses(example.resources.Resources)
    expect(Object.keys(theirs).sort()).toEqual(['ACCESS_DENIED', 'UNAUTHORIZED'])
    // The same body from the authorizer's context, with what a sign-in refusal needs (RFC 9470's values); the
    // status and challenge of a missing permission (RFC 6750).
    const ourBody: string = ours['ACCESS_DENIED'].ResponseTemplates['application/json']
    expect(theirs['ACCESS_DENIED']).toEqual({
      ...ours['ACCESS_DENIED'],
      ResponseTemplates: {
        'application/json': ourBody.replace(/}$/, ',"acr_values":"$context.authorizer.acrValues","max_age":"$context.authorizer.maxAge"}'),
      },
      StatusCode: '403',
      ResponseParameters: {
        ...ours['ACCESS_DENIED'].ResponseParameters,
        'gatewayresponse.header.WWW-Authenticate': `'${BEARER_CHALLENGE}, error="insufficient_scope"'`,
      },
    })
    expect(theirs['UNAUTHORIZED']).toEqual({
      ...ours['UNAUTHORIZED'],
      ResponseTemplates: { 'application/json': JSON.stringify(UNAUTHENTICATED) },
    })
  })
})
