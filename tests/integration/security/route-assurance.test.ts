/**
 * Route requirements on how the caller signed in (README "Route requirements"): `min_acr` and `max_age` rows,
 * enforced by the authorizer in its policy, through the real handlers (register, TOTP enrolment, reauthenticate)
 * and the real authorizer on a real database. The refusal is what the example API's ACCESS_DENIED Gateway Response
 * renders from the context (the template a consuming team copies). TOTP codes come from the independent reference
 * implementation, on tests/support/totp-clock.ts's step clock.
 */
import { readFileSync } from 'node:fs'
import { stepUpChallenge } from '@attune-auth/client'
import type { APIGatewayAuthorizerResult, APIGatewayRequestAuthorizerEventV2 } from 'aws-lambda'
import { describe, expect, it } from 'vitest'
import { handler } from '../../../functions/authorizer.js'
import { policyAllows, renderGatewayResponse } from '../../../infra/local/offline-authorizer.js'
import { getApp } from '../../../lib/app.js'
import type { RegisteredUser } from '../../support/api.js'
import { api, registerUser } from '../../support/api.js'
import { withInfoLogs } from '../../support/capture-logs.js'
import type { ConsumingApi } from '../../support/consuming-api.js'
import { admin, declare, freshApi as freshConsumingApi, restEvent } from '../../support/consuming-api.js'
import { codeOf, later, useTotpStepClock } from '../../support/totp-clock.js'

useTotpStepClock()

/** The example API's serverless.yml: its ACCESS_DENIED Gateway Response is the one README tells teams to copy. */
const EXAMPLE_YML = readFileSync(new URL('../../../examples/orders-service/serverless.yml', import.meta.url), 'utf8')

const STEP_UP = {
  error: 'This route needs a stronger or more recent sign-in: reauthenticate, with a second factor if asked',
  code: 'FORBIDDEN',
  reason: 'insufficient_user_authentication',
}

/** An API of this test's own, with a permission named after it. */
function freshApi() {
  const api = freshConsumingApi()
  return { ...api, refund: `refunds${api.id}:create` }
}

const authorize = (api: ConsumingApi, method: string, path: string, token: string) =>
  handler(restEvent(api, method, path, `Bearer ${token}`)) as Promise<APIGatewayAuthorizerResult>

/** What the caller gets on `method path`: through (200) or the example API's Gateway Response, parsed. */
async function call(api: ConsumingApi, method: string, path: string, token: string): Promise<{ status: number; body?: unknown }> {
  const result = await authorize(api, method, path, token)
  if (policyAllows(result, api.arn(method, path))) return { status: 200 }
  const rendered = renderGatewayResponse('ACCESS_DENIED', result.context ?? {}, EXAMPLE_YML)
  return { status: rendered.status, body: JSON.parse(rendered.body) }
}

/** A user with an active TOTP factor, and the aal2 pair its activation answered (the same session, raised). */
async function withSecondFactor(user: RegisteredUser): Promise<{ secret: string; accessToken: string }> {
  const enrolment = await api.mfa.enrol(user.tokens.access_token)
  const { factor_id, secret } = enrolment.body.data
  const activated = await api.mfa.activate(user.tokens.access_token, factor_id, { code: codeOf(secret) })
  expect(activated.status).toBe(200)
  return { secret, accessToken: activated.body.data.access_token }
}

const sessionAssurance = async (accessToken: string) => {
  const { sessionId } = await getApp().tokens.verifyAccessToken(accessToken)
  const [row] = await getApp().sql<{ acr: string; age: number }[]>`
    select acr, extract(epoch from now() - auth_time)::int as age from attune.session where id = ${sessionId}`
  return row
}

describe('route requirements on the sign-in (min_acr, max_age)', () => {
  it('refuses a password sign-in where aal2 is asked, lets it through after a second factor, and again once too old', async () => {
    const payments = freshApi()
    expect(
      await declare(payments.id, [
        { route: 'POST /refunds', min_acr: 'aal2', max_age: 300 },
        { route: 'POST /refunds', permission: payments.refund },
      ]),
    ).toEqual([`created permission ${payments.refund}`, `${payments.id}: 2 requirements (2 added, 0 changed, 0 removed)`])
    const user = await registerUser()
    await admin('create-role', `refunder-${payments.id}`, payments.refund)
    await admin('grant-role', user.login, `refunder-${payments.id}`)

    // A password alone: refused with what a retry needs, the other routes open.
    expect(await call(payments, 'POST', '/refunds', user.tokens.access_token)).toEqual({
      status: 403,
      body: { ...STEP_UP, acr_values: 'aal2', max_age: '300' },
    })
    expect(await call(payments, 'GET', '/refunds', user.tokens.access_token)).toEqual({ status: 200 })

    // A second factor raises the session in place: the route opens.
    const { secret, accessToken } = await withSecondFactor(user)
    expect(await sessionAssurance(accessToken)).toMatchObject({ acr: 'aal2' })
    expect(await call(payments, 'POST', '/refunds', accessToken)).toEqual({ status: 200 })

    // Five minutes and a second later the sign-in is too old for this route, and only for it.
    await getApp().sql`update attune.session set auth_time = now() - interval '301 seconds'
      where id = ${(await getApp().tokens.verifyAccessToken(accessToken)).sessionId}`
    expect(await call(payments, 'POST', '/refunds', accessToken)).toEqual({
      status: 403,
      body: { ...STEP_UP, acr_values: 'aal2', max_age: '300' },
    })
    expect(await call(payments, 'GET', '/refunds', accessToken)).toEqual({ status: 200 })

    // Reauthenticating with a code makes it recent again; the session row is what the authorizer reads.
    later()
    const stepped = await api.reauthenticate(accessToken, { code: codeOf(secret) })
    expect(stepped.status).toBe(200)
    expect((await sessionAssurance(stepped.body.data.access_token))?.age).toBeLessThan(5)
    expect(await call(payments, 'POST', '/refunds', stepped.body.data.access_token)).toEqual({ status: 200 })
  })

  it('can be RFC 9470 exactly on an API with one sign-in need: a 401 whose constant challenge is requireAssurance’s', async () => {
    const payments = freshApi()
    await declare(payments.id, [
      { route: 'POST /refunds', min_acr: 'aal2', max_age: 300 },
      { route: 'DELETE /payouts/{id}', min_acr: 'aal2', max_age: 300 },
    ])
    // README's recipe: the API's ACCESS_DENIED at 401, the challenge as a constant.
    const challenge = 'Bearer realm="attune-auth", error="insufficient_user_authentication", acr_values="aal2", max_age=300'
    const yml = `resources:
  Resources:
    GatewayResponseAccessDenied:
      Type: AWS::ApiGateway::GatewayResponse
      Properties:
        ResponseType: ACCESS_DENIED
        StatusCode: "401"
        ResponseParameters:
          gatewayresponse.header.WWW-Authenticate: '''${challenge}'''
        ResponseTemplates:
          application/json: '{"error":"$context.authorizer.error","code":"$context.authorizer.code","reason":"$context.authorizer.reason","acr_values":"$context.authorizer.acrValues","max_age":"$context.authorizer.maxAge"}'
`
    const user = await registerUser()
    const result = await authorize(payments, 'DELETE', '/payouts/9', user.tokens.access_token)
    expect(policyAllows(result, payments.arn('DELETE', '/payouts/9'))).toBe(false)
    const rendered = renderGatewayResponse('ACCESS_DENIED', result.context ?? {}, yml)
    expect(rendered.status).toBe(401)
    // The very challenge a handler's requireAssurance sends for the same need.
    expect(rendered.headers['WWW-Authenticate']).toBe(stepUpChallenge({ acr: 'aal2', maxAge: 300 }))
    expect(JSON.parse(rendered.body)).toEqual({ ...STEP_UP, acr_values: 'aal2', max_age: '300' })
  })

  it('names a missing permission first: a stronger sign-in would not open the route', async () => {
    const payments = freshApi()
    await declare(payments.id, [{ route: 'POST /refunds', permission: payments.refund, min_acr: 'aal2' }])
    const user = await registerUser()
    expect(await call(payments, 'POST', '/refunds', user.tokens.access_token)).toMatchObject({
      status: 403,
      body: { reason: 'permission_missing', acr_values: '', max_age: '' },
    })
    // With the permission, the same row now refuses the sign-in alone.
    await admin('create-role', `refunder-${payments.id}`, payments.refund)
    await admin('grant-role', user.login, `refunder-${payments.id}`)
    expect(await call(payments, 'POST', '/refunds', user.tokens.access_token)).toEqual({
      status: 403,
      body: { ...STEP_UP, acr_values: 'aal2', max_age: '' },
    })
  })

  it('denies the sign-in routes in the policy of any route, so a cached decision cannot open them', async () => {
    const payments = freshApi()
    await declare(payments.id, [{ route: 'ANY /admin/{proxy+}', min_acr: 'aal2' }])
    const user = await registerUser()
    const result = await authorize(payments, 'GET', '/health', user.tokens.access_token)
    expect(policyAllows(result, payments.arn('GET', '/health'))).toBe(true)
    for (const [method, path] of [
      ['GET', '/admin/users'],
      ['DELETE', '/admin/users/7'],
    ])
      expect(policyAllows(result, payments.arn(method as string, path as string)), `${method} ${path}`).toBe(false)
    expect(result.context).toMatchObject({ ...STEP_UP, acrValues: 'aal2', maxAge: '' })
  })

  it('refuses an API key any route that asks for a recent sign-in (a key signs no one in)', async () => {
    const reports = freshApi()
    await declare(reports.id, [{ route: 'GET /reports', max_age: 3600 }])
    const name = `sync-${reports.id.slice(0, 8).toLowerCase()}`
    await admin('create-service-account', name)
    const key = (await admin('create-key', name, 'nightly')).at(-1) as string
    expect(await call(reports, 'GET', '/reports', key)).toEqual({ status: 403, body: { ...STEP_UP, acr_values: '', max_age: '3600' } })
    expect(await call(reports, 'GET', '/other', key)).toEqual({ status: 200 })
  })

  it('refuses an HTTP API simple response on such a route', async () => {
    const payments = freshApi()
    await declare(payments.id, [{ route: 'POST /refunds', min_acr: 'aal2' }])
    const user = await registerUser()
    const event = (method: string, path: string) =>
      ({
        version: '2.0',
        type: 'REQUEST',
        routeArn: payments.arn(method, path),
        identitySource: [`Bearer ${user.tokens.access_token}`],
        routeKey: `${method} ${path}`,
        rawPath: path,
        rawQueryString: '',
        headers: { authorization: `Bearer ${user.tokens.access_token}` },
        requestContext: { apiId: payments.id, http: { method, path, protocol: 'HTTP/1.1', sourceIp: '192.0.2.1', userAgent: 'test' } },
      }) as unknown as APIGatewayRequestAuthorizerEventV2
    expect(await handler(event('POST', '/refunds'))).toMatchObject({ isAuthorized: false, context: { ...STEP_UP, acrValues: 'aal2' } })
    expect(await handler(event('GET', '/refunds'))).toMatchObject({ isAuthorized: true })
  })

  it('in report mode lets the caller through and logs would_deny with the sign-in needed', async () => {
    const payments = freshApi()
    await declare(payments.id, [{ route: 'POST /refunds', min_acr: 'aal2', max_age: 60, mode: 'report' }])
    const user = await registerUser()
    const { result, entries } = await withInfoLogs(() => authorize(payments, 'POST', '/refunds', user.tokens.access_token))
    expect(policyAllows(result, payments.arn('POST', '/refunds'))).toBe(true)
    expect(result.context).not.toHaveProperty('reason')
    expect(entries.filter((entry) => entry['message'] === 'would_deny')).toEqual([
      expect.objectContaining({
        event: 'auth.would_deny',
        identityId: user.identityId,
        apiId: payments.id,
        route: 'POST/refunds',
        missing: [],
        signInNeeded: { acr: 'aal2', maxAge: 60 },
      }),
    ])
  })
})

describe('declaring sign-in requirements (npm run admin)', () => {
  it('keeps a permission row and a sign-in row of one route apart, changes and removes them, and lists them', async () => {
    const payments = freshApi()
    const both = [
      { route: 'POST /refunds', permission: payments.refund },
      { route: 'POST /refunds', min_acr: 'aal2', max_age: 300 },
    ]
    await declare(payments.id, both)
    expect(await declare(payments.id, both)).toEqual([`${payments.id}: 2 requirements (0 added, 0 changed, 0 removed)`])
    expect(await admin('route-requirements', payments.id)).toEqual([
      'POST /refunds: min_acr aal2, max_age 300s (enforce)',
      `POST /refunds: ${payments.refund} (enforce)`,
    ])
    expect(
      await declare(payments.id, [
        { route: 'POST /refunds', permission: payments.refund, max_age: 0 },
        { route: 'POST /refunds', min_acr: 'aal2', max_age: 120 },
      ]),
    ).toEqual([`${payments.id}: 2 requirements (0 added, 2 changed, 0 removed)`])
    expect(await declare(payments.id, [{ route: 'POST /refunds', permission: payments.refund, max_age: 0 }])).toEqual([
      `${payments.id}: 1 requirements (0 added, 0 changed, 1 removed)`,
    ])
    expect(await admin('route-requirements', payments.id)).toEqual([`POST /refunds: ${payments.refund}, max_age 0s (enforce)`])
    for (const [entry, message] of [
      [{ route: 'POST /refunds', min_acr: 'aal3' }, /requirements\[0\]\.min_acr/],
      [{ route: 'POST /refunds', max_age: -1 }, /requirements\[0\]\.max_age/],
      [{ route: 'POST /refunds' }, /must ask for a permission, a min_acr or a max_age/],
    ] as const)
      await expect(declare(payments.id, [entry]), JSON.stringify(entry)).rejects.toThrow(message)
  })
})
