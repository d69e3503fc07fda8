/**
 * Route requirements: an API behind the authorizer declares what its routes need (`npm run admin --
 * set-route-requirements`), and the authorizer enforces it in the policy it answers: Allow on the stage, an
 * explicit Deny on every route the caller lacks a permission for, so a policy cached by API Gateway for one
 * route is right for all of them. `report` lets the caller through and logs `would_deny`. Changes and grants
 * reach the very next request, with the same access token.
 */
import { randomUUID } from 'node:crypto'
import type { APIGatewayAuthorizerResult, APIGatewayRequestAuthorizerEvent, APIGatewayRequestAuthorizerEventV2 } from 'aws-lambda'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { handler } from '../../../functions/authorizer.js'
import { policyAllows } from '../../../infra/local/offline-authorizer.js'
import { getApp } from '../../../lib/app.js'
import { createDecisionCaches } from '../../../lib/authorizer/caches.js'
import { decide } from '../../../lib/authorizer/decision.js'
import type { RegisteredUser } from '../../support/api.js'
import { api, registerUser } from '../../support/api.js'
import { withInfoLogs } from '../../support/capture-logs.js'
import { admin, declare, freshApi as freshConsumingApi, restEvent } from '../../support/consuming-api.js'
import type { CountedApp } from '../../support/counted-app.js'
import { startCountedApp } from '../../support/counted-app.js'

const FORBIDDEN = { error: 'You do not have the permission this needs', code: 'FORBIDDEN', reason: 'permission_missing' }

/** An API of this test's own, its permissions named after it. */
function freshApi() {
  const api = freshConsumingApi()
  return { ...api, read: `orders${api.id}:read`, write: `orders${api.id}:write` }
}

type Api = ReturnType<typeof freshApi>

/** A role with these permissions, granted to the user. */
async function grant(user: RegisteredUser, ...permissions: string[]): Promise<string> {
  const role = `role-${randomUUID().slice(0, 8)}`
  await admin('create-role', role, ...permissions)
  await admin('grant-role', user.login, role)
  return role
}

const bearer = (user: RegisteredUser) => `Bearer ${user.tokens.access_token}`
const authorize = (event: APIGatewayRequestAuthorizerEvent) => handler(event) as Promise<APIGatewayAuthorizerResult>

describe('route requirements in enforce mode', () => {
  let user: RegisteredUser
  let orders: Api

  beforeAll(async () => {
    user = await registerUser()
    orders = freshApi()
    expect(
      await declare(orders.id, [
        { route: 'GET /orders', permission: orders.read },
        { route: 'GET /orders/{id}', permission: orders.read },
        { route: 'POST /orders', permission: orders.write, mode: 'enforce' },
      ]),
    ).toEqual([
      `created permission ${orders.read}`,
      `created permission ${orders.write}`,
      `${orders.id}: 3 requirements (3 added, 0 changed, 0 removed)`,
    ])
  })

  it('denies the routes the caller lacks a permission for, and only them, in one policy right for every route', async () => {
    const result = await authorize(restEvent(orders, 'GET', '/orders', bearer(user)))
    // The same policy, whichever route API Gateway's cache serves it for.
    for (const [method, path, allowed] of [
      ['GET', '/orders', false],
      ['GET', '/orders/42', false],
      ['POST', '/orders', false],
      ['GET', '/health', true],
      ['DELETE', '/carts/7', true],
    ] as const) {
      expect(policyAllows(result, orders.arn(method, path)), `${method} ${path}`).toBe(allowed)
    }
    // What the API's ACCESS_DENIED Gateway Response (403) renders: the context's refusal, beside the caller.
    expect(result.context).toMatchObject({ identityId: user.identityId, ...FORBIDDEN })
  })

  it('allows a route on the next request after a grant, and denies it on the next after revocation, same token', async () => {
    const role = await grant(user, orders.read)
    const granted = await authorize(restEvent(orders, 'GET', '/orders/42', bearer(user)))
    expect(policyAllows(granted, orders.arn('GET', '/orders/42'))).toBe(true)
    expect(policyAllows(granted, orders.arn('GET', '/orders'))).toBe(true)
    expect(policyAllows(granted, orders.arn('POST', '/orders'))).toBe(false)

    await admin('revoke-role', user.login, role)
    const revoked = await authorize(restEvent(orders, 'GET', '/orders/42', bearer(user)))
    expect(policyAllows(revoked, orders.arn('GET', '/orders/42'))).toBe(false)
  })

  it('answers a bad token with API Gateway’s own 401 on such an API, so its ACCESS_DENIED can be the 403', async () => {
    const loggedOut = await registerUser()
    await api.logout(loggedOut.tokens.access_token)
    for (const token of ['Bearer not.a.jwt', `Basic ${Buffer.from('a:b').toString('base64')}`, bearer(loggedOut)]) {
      await expect(authorize(restEvent(orders, 'GET', '/orders', token)), token).rejects.toThrow(/^Unauthorized$/)
    }
    // An API without requirements keeps the precise Deny (ACCESS_DENIED at 401 with the reason).
    const plain = freshApi()
    const denied = await authorize(restEvent(plain, 'GET', '/orders', bearer(loggedOut)))
    expect(denied.policyDocument.Statement).toEqual([expect.objectContaining({ Effect: 'Deny' })])
    expect(denied.context).toMatchObject({ reason: 'session_ended' })
  })

  it('refuses an HTTP API simple response for a route the caller lacks, and authorizes the others', async () => {
    const other = await registerUser()
    const event = (routeKey: string): APIGatewayRequestAuthorizerEventV2 => {
      const [method = '', path = ''] = routeKey.split(' ')
      return {
        version: '2.0',
        type: 'REQUEST',
        routeArn: orders.arn(method, path),
        identitySource: [bearer(other)],
        routeKey,
        rawPath: path,
        rawQueryString: '',
        headers: { authorization: bearer(other) },
        requestContext: { apiId: orders.id, http: { method, path, protocol: 'HTTP/1.1', sourceIp: '192.0.2.1', userAgent: 'test' } },
      } as unknown as APIGatewayRequestAuthorizerEventV2
    }
    expect(await handler(event('GET /orders'))).toMatchObject({ isAuthorized: false, context: FORBIDDEN })
    expect(await handler(event('GET /health'))).toMatchObject({ isAuthorized: true, context: { identityId: other.identityId } })
  })
})

describe('route requirements in report mode', () => {
  it('allows the caller, logs would_deny with the API, route and missing permission, then enforces once switched', async () => {
    const user = await registerUser()
    const orders = freshApi()
    await declare(orders.id, [{ route: 'DELETE /orders/{id}', permission: orders.write, mode: 'report' }])
    const { result: reported, entries } = await withInfoLogs(() => authorize(restEvent(orders, 'DELETE', '/orders/42', bearer(user))))
    expect(policyAllows(reported, orders.arn('DELETE', '/orders/42'))).toBe(true)
    expect(reported.context).not.toHaveProperty('code')
    expect(entries.filter((entry) => entry['message'] === 'would_deny')).toEqual([
      expect.objectContaining({
        event: 'auth.would_deny',
        identityId: user.identityId,
        apiId: orders.id,
        route: 'DELETE/orders/42',
        missing: [orders.write],
      }),
    ])

    expect(await declare(orders.id, [{ route: 'DELETE /orders/{id}', permission: orders.write, mode: 'enforce' }])).toEqual([
      `${orders.id}: 1 requirements (0 added, 1 changed, 0 removed)`,
    ])
    const enforced = await authorize(restEvent(orders, 'DELETE', '/orders/42', bearer(user)))
    expect(policyAllows(enforced, orders.arn('DELETE', '/orders/42'))).toBe(false)
  })
})

describe('declaring route requirements (npm run admin)', () => {
  it('replaces the set exactly, audits the change, lists it, and refuses a malformed file', async () => {
    const orders = freshApi()
    await declare(orders.id, [
      { route: 'GET /orders', permission: orders.read },
      { route: 'ANY /orders/{proxy+}', permission: orders.write, mode: 'report' },
    ])
    expect(await declare(orders.id, [{ route: 'GET /orders', permission: orders.read }])).toEqual([
      `${orders.id}: 1 requirements (0 added, 0 changed, 1 removed)`,
    ])
    expect(await declare(orders.id, [{ route: 'GET /orders', permission: orders.read }])).toEqual([
      `${orders.id}: 1 requirements (0 added, 0 changed, 0 removed)`,
    ])
    expect(await admin('route-requirements', orders.id)).toEqual([`GET /orders: ${orders.read} (enforce)`])
    const events = await getApp().sql<{ data: Record<string, unknown>; actor_id: string }[]>`
      select data, actor_id from attune.audit_event where type = 'route_requirements.changed' and data->>'api_id' = ${orders.id} order by id`
    expect(events.map((e) => [e.actor_id, e.data])).toEqual([
      ['cli', { api_id: orders.id, added: 2, changed: 0, removed: 0, requirements: 2 }],
      ['cli', { api_id: orders.id, added: 0, changed: 0, removed: 1, requirements: 1 }],
    ])
    for (const [requirements, message] of [
      [[{ route: 'GET orders', permission: orders.read }], /requirements\[0\]\.route/],
      [[{ route: 'FETCH /orders', permission: orders.read }], /requirements\[0\]\.route/],
      [[{ route: 'GET /orders', permission: 'Orders' }], /requirements\[0\]\.permission/],
      [[{ route: 'GET /orders', permission: orders.read, mode: 'audit' }], /requirements\[0\]\.mode/],
    ] as const) {
      await expect(declare(orders.id, [...requirements]), JSON.stringify(requirements)).rejects.toThrow(message)
    }
    await expect(admin('set-route-requirements', 'not an id', '/dev/null')).rejects.toThrow(/API id/)
    expect(await admin('route-requirements', orders.id)).toEqual([`GET /orders: ${orders.read} (enforce)`])
  })
})

describe('declaring route requirements at once', () => {
  it('leaves exactly one of two declarations made at the same time, never a mix of both', async () => {
    const orders = freshApi()
    const first = [
      { route: 'GET /orders', permission: orders.read },
      { route: 'POST /orders', permission: orders.write },
    ]
    const second = [
      { route: 'GET /orders/{id}', permission: orders.read },
      { route: 'DELETE /orders/{id}', permission: orders.write },
    ]
    for (let round = 0; round < 20; round++) {
      await Promise.all([declare(orders.id, first), declare(orders.id, second)])
      const listed = await admin('route-requirements', orders.id)
      const routes = listed.map((line) => line.split(':')[0]).sort()
      expect(
        [
          ['GET /orders', 'POST /orders'],
          ['DELETE /orders/{id}', 'GET /orders/{id}'],
        ],
        listed.join('; '),
      ).toContainEqual(routes)
    }
  })
})

describe('the cost of route requirements in the authorizer', () => {
  let counted: CountedApp

  beforeAll(async () => {
    counted = await startCountedApp()
  })
  afterAll(() => counted?.close())

  it('is no query while the API’s requirements are unchanged, one after a change, none for another API’s change', async () => {
    const user = await registerUser()
    const [orders, other] = [freshApi(), freshApi()]
    await declare(orders.id, [{ route: 'GET /orders', permission: orders.read }])
    const { app, proxy } = counted
    const deps = { tokens: app.tokens, sessions: app.sessions, ...createDecisionCaches(app.sql, app.config) }
    const statementsOf = async () => {
      proxy.reset()
      expect(await decide(restEvent(orders, 'GET', '/orders', bearer(user)), deps)).toMatchObject({ effect: 'Allow' })
      return proxy.counts().statements
    }
    await statementsOf() // prepares the statements and fills the caches
    expect(await statementsOf()).toBe(1) // the session lookup alone
    await declare(other.id, [{ route: 'GET /orders', permission: other.read }])
    expect(await statementsOf()).toBe(1)
    await declare(orders.id, [{ route: 'GET /orders', permission: orders.write }])
    expect(await statementsOf()).toBe(2) // the lookup saw the API's new version: its requirements are read again
    expect(await statementsOf()).toBe(1)
  })
})
