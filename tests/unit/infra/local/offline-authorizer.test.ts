/**
 * The serverless-offline authentication provider does what API Gateway does around our authorizer:
 * which requests reach it, what a handler receives on Allow, and which Gateway Response a refusal gets.
 * The authorizer is a stand-in here; tests/e2e runs the real one over HTTP.
 */
import type { BearerRefusal } from '@attune-auth/client'
import { BEARER_CHALLENGE, REASONS, requireAuth } from '@attune-auth/client'
import type { APIGatewayAuthorizerResult, APIGatewayRequestAuthorizerEvent, Context } from 'aws-lambda'
import { describe, expect, it, vi } from 'vitest'
import type { HapiRequest, HapiToolkit, OfflineRequest, Outcome } from '../../../../infra/local/offline-authorizer.js'
import { authenticate, authorize, methodArn, policyAllows } from '../../../../infra/local/offline-authorizer.js'
import { NO_ROUTE_REQUIREMENTS, stageWildcardArn, toPolicy } from '../../../../lib/authorizer/decision.js'

const request = (headers: Record<string, string> = {}): OfflineRequest => ({
  method: 'GET',
  path: '/auth/me',
  resource: '/auth/me',
  headers,
  multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [v]])),
  query: {},
  params: {},
})

const allowAs = (identityId: number, login: string) =>
  vi.fn(async (event: APIGatewayRequestAuthorizerEvent) =>
    toPolicy(
      {
        effect: 'Allow',
        identityId,
        login,
        sessionId: '0b5e6c1e-3f0a-4c47-9a53-5d1f2b7c9e10',
        roles: ['clerk'],
        permissions: ['orders:read'],
        acr: 'aal1',
        amr: ['pwd'],
        authTime: 1_764_000_000,
        principalType: 'user',
        keyId: null,
        routes: NO_ROUTE_REQUIREMENTS,
      },
      event.methodArn,
    ),
  )
const denyFor = (reason: BearerRefusal) =>
  vi.fn(async (event: APIGatewayRequestAuthorizerEvent) => toPolicy({ effect: 'Deny', reason, unauthorized: false }, event.methodArn))

/** The body of a refusal (rendered from serverless.yml's Gateway Responses), as far as these tests look. */
const refusalBody = (outcome: Outcome): unknown => (outcome.allow ? undefined : JSON.parse(outcome.body))
const refusal = (reason: keyof typeof REASONS) => ({ error: REASONS[reason].message, code: REASONS[reason].code, reason })
const JSON_HEADERS = { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' }

describe('offline authorizer', () => {
  it('refuses a request without an Authorization header as API Gateway does, without calling the authorizer', async () => {
    const authorizer = allowAs(1, 'alice')
    const outcome = await authorize(request(), authorizer)
    expect(authorizer).not.toHaveBeenCalled()
    expect(outcome).toMatchObject({ allow: false, status: 401, headers: { ...JSON_HEADERS, 'WWW-Authenticate': BEARER_CHALLENGE } })
    expect(refusalBody(outcome)).toMatchObject(refusal('token_missing'))
  })

  it('treats an empty Authorization header as missing', async () => {
    const authorizer = allowAs(1, 'alice')
    const outcome = await authorize(request({ Authorization: '  ' }), authorizer)
    expect(authorizer).not.toHaveBeenCalled()
    expect(outcome).toMatchObject({ allow: false, status: 401 })
  })

  it('invokes the authorizer as Lambda would, with a REST REQUEST event carrying the header and the method ARN', async () => {
    const authorizer = allowAs(1, 'alice')
    await authorize(request({ authorization: 'Bearer abc' }), authorizer)
    const [event, context] = authorizer.mock.calls[0] as unknown as [APIGatewayRequestAuthorizerEvent, Context]
    expect(event).toMatchObject({
      type: 'REQUEST',
      httpMethod: 'GET',
      path: '/auth/me',
      resource: '/auth/me',
      headers: { authorization: 'Bearer abc' },
    })
    expect(event.methodArn).toBe(methodArn({ method: 'GET', path: '/auth/me' }))
    expect(context).toMatchObject({ functionName: 'attune-auth-local-authorizer', awsRequestId: expect.stringMatching(/^[0-9a-f-]{36}$/) })
    expect(context.getRemainingTimeInMillis()).toBeGreaterThan(0)
  })

  it('passes an Allow on with the context stringified, which requireAuth reads', async () => {
    const outcome = await authorize(request({ Authorization: 'Bearer abc' }), allowAs(42, 'alice'))
    expect(outcome).toEqual({
      allow: true,
      principalId: '42',
      context: {
        identityId: '42',
        login: 'alice',
        sessionId: '0b5e6c1e-3f0a-4c47-9a53-5d1f2b7c9e10',
        roles: 'clerk',
        permissions: 'orders:read',
        acr: 'aal1',
        amr: 'pwd',
        authTime: '1764000000',
      },
    })
    if (!outcome.allow) throw new Error('expected an Allow')
    expect(requireAuth({ requestContext: { authorizer: { principalId: outcome.principalId, ...outcome.context } } })).toMatchObject({
      identityId: 42,
      login: 'alice',
    })
  })

  it("answers a Deny with 401, the authorizer's message and a Bearer challenge (ACCESS_DENIED)", async () => {
    const outcome = await authorize(request({ Authorization: 'Bearer expired' }), denyFor('token_expired'))
    expect(outcome).toMatchObject({ allow: false, status: 401, headers: { ...JSON_HEADERS, 'WWW-Authenticate': BEARER_CHALLENGE } })
    expect(refusalBody(outcome)).toMatchObject(refusal('token_expired'))
  })

  it('refuses an Allow whose policy does not cover the requested route', async () => {
    const narrow = vi.fn(
      async (): Promise<APIGatewayAuthorizerResult> => ({
        principalId: '1',
        policyDocument: {
          Version: '2012-10-17',
          Statement: [
            {
              Action: 'execute-api:Invoke',
              Effect: 'Allow',
              Resource: 'arn:aws:execute-api:us-east-1:123456789012:offline/local/POST/auth/logout',
            },
          ],
        },
        context: { identityId: 1, login: 'alice' },
      }),
    )
    expect(await authorize(request({ Authorization: 'Bearer abc' }), narrow)).toMatchObject({ allow: false, status: 401 })
  })

  it('answers 401 Missing authentication token when the authorizer throws Unauthorized', async () => {
    const outcome = await authorize(request({ Authorization: 'Bearer abc' }), async () => {
      throw new Error('Unauthorized')
    })
    expect(outcome).toMatchObject({ allow: false, status: 401 })
    expect(refusalBody(outcome)).toMatchObject(refusal('token_missing'))
  })

  it('answers 503 SERVICE_UNAVAILABLE when the authorizer fails (e.g. its database is unreachable)', async () => {
    vi.spyOn(console, 'error').mockImplementation(() => {})
    const outcome = await authorize(request({ Authorization: 'Bearer abc' }), async () => {
      throw new Error('connect ECONNREFUSED 127.0.0.1:5432')
    })
    expect(outcome).toMatchObject({ allow: false, status: 503, headers: JSON_HEADERS })
    expect(refusalBody(outcome)).toMatchObject(refusal('service_unavailable'))
  })
})

describe('policyAllows', () => {
  const arn = 'arn:aws:execute-api:us-east-1:123456789012:offline/local/GET/auth/me'
  const policy = (Effect: 'Allow' | 'Deny', Resource: string | string[]): APIGatewayAuthorizerResult => ({
    principalId: 'x',
    policyDocument: { Version: '2012-10-17', Statement: [{ Action: 'execute-api:Invoke', Effect, Resource }] },
  })

  it('matches the stage-wide wildcard our authorizer answers', () => {
    expect(policyAllows(policy('Allow', stageWildcardArn(arn)), arn)).toBe(true)
  })

  it('lets an explicit Deny win and allows nothing by default', () => {
    expect(
      policyAllows(
        {
          principalId: 'x',
          policyDocument: {
            Version: '2012-10-17',
            Statement: [...policy('Allow', '*').policyDocument.Statement, ...policy('Deny', arn).policyDocument.Statement],
          },
        },
        arn,
      ),
    ).toBe(false)
    expect(policyAllows(policy('Allow', 'arn:aws:execute-api:us-east-1:123456789012:other/*'), arn)).toBe(false)
  })
})

describe('the hapi scheme serverless-offline runs', () => {
  const toolkit = () => {
    const response = { code: vi.fn(), header: vi.fn(), takeover: vi.fn() }
    response.code.mockReturnValue(response)
    response.header.mockReturnValue(response)
    response.takeover.mockReturnValue(response)
    const h = { authenticated: vi.fn((data: unknown) => data), response: vi.fn((_body: string) => response) }
    return { h: h as unknown as HapiToolkit & typeof h, response }
  }
  const hapiRequest = (rawHeaders: string[]): HapiRequest => ({
    method: 'get',
    path: '/auth/me',
    params: {},
    query: {},
    route: { path: '/auth/me' },
    raw: { req: { rawHeaders } },
  })

  it('lets a public route through without looking at the request', async () => {
    const { h } = toolkit()
    await authenticate({}, hapiRequest(['Authorization', 'Bearer garbage']), h)
    expect(h.authenticated).toHaveBeenCalledWith({ credentials: {} })
    expect(h.response).not.toHaveBeenCalled()
  })

  it("takes a protected route's refusal over with the Gateway Response's status, headers and body", async () => {
    const { h, response } = toolkit()
    await authenticate({ authorizer: { name: 'authorizer' } }, hapiRequest([]), h)
    expect(JSON.parse(h.response.mock.calls[0]?.[0] ?? '')).toMatchObject(refusal('token_missing'))
    expect(response.code).toHaveBeenCalledWith(401)
    expect(response.header).toHaveBeenCalledWith('WWW-Authenticate', BEARER_CHALLENGE)
    expect(response.header).toHaveBeenCalledWith('Content-Type', 'application/json')
    expect(response.takeover).toHaveBeenCalled()
  })
})
