/**
 * Log hygiene: the whole flow — register, login (success and failure), me, refresh,
 * refresh replay, change-password, logout — runs at LOG_LEVEL=debug with every byte the process writes
 * captured. No line, and no row of the audit log, may hold a password, an Argon2 hash, an access or refresh
 * token (nor its signature), an API key, or the JWT secret; every authentication attempt, success or failure, is a structured JSON event
 * carrying the request's ids.
 */
import { randomUUID } from 'node:crypto'
import type { APIGatewayProxyEvent, APIGatewayProxyResult, APIGatewayRequestAuthorizerEvent, Context } from 'aws-lambda'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { handler as authorizerHandler } from '../../../functions/authorizer.js'
import { handler as changePasswordHandler } from '../../../functions/change-password.js'
import { handler as loginHandler } from '../../../functions/login.js'
import { handler as logoutHandler } from '../../../functions/logout.js'
import { handler as meHandler } from '../../../functions/me.js'
import { handler as refreshHandler } from '../../../functions/refresh.js'
import { handler as registerHandler } from '../../../functions/register.js'
import { runAdmin } from '../../../infra/admin.js'
import { authorize } from '../../../infra/local/offline-authorizer.js'
import { getApp } from '../../../lib/app.js'
import type { LogLevel } from '../../../lib/config.js'
import { logger, setLogLevel } from '../../../lib/log.js'
import { createPseudonymizer } from '../../../lib/pseudonyms.js'
import type { TokenPair } from '../../../lib/tokens/service.js'
import type { CapturedLogs } from '../../support/capture-logs.js'
import { captureLogs } from '../../support/capture-logs.js'
import { lambdaContext, requestAuthorizerEvent, restEvent, uniqueLogin } from '../../support/events.js'

type Handler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>

interface Sent {
  status: number
  body: any
  /** API Gateway's request id (`requestContext.requestId`) and Lambda's (`context.awsRequestId`); absent when the authorizer refused. */
  apiRequestId?: string
  awsRequestId?: string
}

/** One call as API Gateway makes it, keeping the ids it gave the request (tests/support/api.ts does not expose them). */
async function send(handler: Handler, method: string, path: string, options: { body?: unknown; token?: string } = {}): Promise<Sent> {
  let authorizer: Record<string, string> | undefined
  if (options.token !== undefined) {
    const outcome = await authorize({
      method,
      path,
      resource: path,
      headers: { Authorization: `Bearer ${options.token}` },
      multiValueHeaders: {},
      query: {},
      params: {},
    })
    if (!outcome.allow) return { status: outcome.status, body: JSON.parse(outcome.body) }
    authorizer = { principalId: outcome.principalId, ...outcome.context }
  }
  const event = restEvent({
    method,
    path,
    ...(options.body === undefined ? {} : { body: options.body }),
    ...(authorizer ? { authorizer } : {}),
  })
  const context = lambdaContext()
  const result = await handler(event, context)
  return {
    status: result.statusCode,
    body: JSON.parse(result.body),
    apiRequestId: event.requestContext.requestId,
    awsRequestId: context.awsRequestId,
  }
}

/**
 * The Lambda authorizer as API Gateway invokes it: a REQUEST event with its own request id, and a Lambda
 * context. (Typed loosely: the handler may declare only the event.)
 */
async function authorizerDecision(token: string): Promise<{ effect: string; apiRequestId: string; awsRequestId: string }> {
  const event: APIGatewayRequestAuthorizerEvent = requestAuthorizerEvent({ Authorization: `Bearer ${token}` })
  event.requestContext = { ...event.requestContext, requestId: randomUUID() }
  const context = lambdaContext()
  const invoke = authorizerHandler as unknown as (
    event: APIGatewayRequestAuthorizerEvent,
    context: Context,
  ) => Promise<{ policyDocument: { Statement: Array<{ Effect: string }> } }>
  const result = await invoke(event, context)
  return {
    effect: result.policyDocument.Statement[0]?.Effect ?? 'none',
    apiRequestId: event.requestContext.requestId,
    awsRequestId: context.awsRequestId,
  }
}

/** An authentication attempt the flow made, and the event it must have logged. */
interface Attempt {
  event: string
  outcome: 'success' | 'failure'
  reason?: string
  sent: Sent
}

describe('log hygiene at LOG_LEVEL=debug', () => {
  let logs: CapturedLogs
  const previousEnv = process.env['LOG_LEVEL']
  const secrets = new Map<string, string>()
  const attempts: Attempt[] = []
  const decisions: Array<{ effect: string; apiRequestId: string; awsRequestId: string; outcome: 'success' | 'failure' }> = []
  let flowRan = false
  let identityId = 0
  let levelDuringFlow = ''

  const keep = (label: string, value: string): void => {
    secrets.set(label, value)
  }
  const keepPair = (label: string, pair: TokenPair): void => {
    keep(`${label} access token`, pair.access_token)
    keep(`${label} access token signature`, pair.access_token.split('.')[2] as string)
    keep(`${label} refresh token`, pair.refresh_token)
    keep(`${label} refresh token signature`, pair.refresh_token.split('.')[2] as string)
  }

  beforeAll(async () => {
    // The app and the authorizer read LOG_LEVEL when they are first built; the level is also set outright.
    logs = captureLogs()
    process.env['LOG_LEVEL'] = 'debug'
    const app = getApp()
    await authorize({
      method: 'GET',
      path: '/auth/me',
      resource: '/auth/me',
      headers: { Authorization: 'Bearer warm-up' },
      multiValueHeaders: {},
      query: {},
      params: {},
    })
    setLogLevel('debug')
    levelDuringFlow = logger.getLevelName()
    keep('JWT secret', new TextDecoder().decode(app.config.jwt.secret))

    try {
      const login = uniqueLogin('hygiene')
      const password = 'correct horse battery staple 1'
      const newPassword = 'Tr0ub4dor&3 is the new one'
      const wrongPassword = 'not-the-password-at-all-9'
      const unknownLogin = uniqueLogin('nobody')
      keep('password', password)
      keep('new password', newPassword)
      keep('wrong password', wrongPassword)
      // A login field sometimes holds a password typed into the wrong field: logins appear only as keyed hashes.
      keep('login', login)
      keep('unknown login typed', unknownLogin)

      const registered = await send(registerHandler, 'POST', '/auth/register', { body: { login, password, display_name: 'Hygiene' } })
      expect(registered.status).toBe(200)
      keepPair('registration', registered.body.data)
      identityId = (await app.tokens.verifyAccessToken(registered.body.data.access_token)).identityId
      attempts.push({ event: 'auth.register', outcome: 'success', sent: registered })

      const taken = await send(registerHandler, 'POST', '/auth/register', { body: { login, password } })
      expect(taken.status).toBe(409)
      attempts.push({ event: 'auth.register', outcome: 'failure', reason: 'login_taken', sent: taken })

      const wrong = await send(loginHandler, 'POST', '/auth/login', { body: { login, password: wrongPassword } })
      expect(wrong.status).toBe(401)
      attempts.push({ event: 'auth.login', outcome: 'failure', reason: 'invalid_credentials', sent: wrong })

      const unknown = await send(loginHandler, 'POST', '/auth/login', { body: { login: unknownLogin, password } })
      expect(unknown.status).toBe(401)
      attempts.push({ event: 'auth.login', outcome: 'failure', reason: 'invalid_credentials', sent: unknown })

      const loggedIn = await send(loginHandler, 'POST', '/auth/login', { body: { login, password } })
      expect(loggedIn.status).toBe(200)
      keepPair('login', loggedIn.body.data)
      attempts.push({ event: 'auth.login', outcome: 'success', sent: loggedIn })

      expect((await send(meHandler, 'GET', '/auth/me', { token: loggedIn.body.data.access_token })).status).toBe(200)

      const first = loggedIn.body.data.refresh_token as string
      const refreshed = await send(refreshHandler, 'POST', '/auth/refresh', { body: { refresh_token: first } })
      expect(refreshed.status).toBe(200)
      keepPair('first refresh', refreshed.body.data)
      attempts.push({ event: 'auth.refresh', outcome: 'success', sent: refreshed })

      const again = await send(refreshHandler, 'POST', '/auth/refresh', { body: { refresh_token: refreshed.body.data.refresh_token } })
      expect(again.status).toBe(200)
      keepPair('second refresh', again.body.data)
      attempts.push({ event: 'auth.refresh', outcome: 'success', sent: again })

      // Two generations back, outside the grace window's reach: a replay, which revokes the session.
      const replay = await send(refreshHandler, 'POST', '/auth/refresh', { body: { refresh_token: first } })
      expect(replay).toMatchObject({ status: 401, body: { code: 'REFRESH_TOKEN_REUSED' } })
      attempts.push({ event: 'auth.refresh', outcome: 'failure', reason: 'refresh_token_reused', sent: replay })

      const forged = await send(refreshHandler, 'POST', '/auth/refresh', { body: { refresh_token: `${first.slice(0, -4)}AAAA` } })
      expect(forged.status).toBe(401)
      attempts.push({ event: 'auth.refresh', outcome: 'failure', reason: 'token_invalid', sent: forged })

      const relogin = await send(loginHandler, 'POST', '/auth/login', { body: { login, password } })
      expect(relogin.status).toBe(200)
      keepPair('second login', relogin.body.data)
      attempts.push({ event: 'auth.login', outcome: 'success', sent: relogin })
      const token = relogin.body.data.access_token as string

      const refused = await send(changePasswordHandler, 'POST', '/auth/change-password', {
        token,
        body: { current_password: wrongPassword, new_password: newPassword },
      })
      expect(refused.status).toBe(401)
      attempts.push({ event: 'auth.change_password', outcome: 'failure', reason: 'invalid_current_password', sent: refused })

      const [before] = await app.sql<
        { password_hash: string }[]
      >`select password_hash from attune.identity where lower(login) = lower(${login})`
      keep('Argon2 hash before the change', before?.password_hash as string)

      const changed = await send(changePasswordHandler, 'POST', '/auth/change-password', {
        token,
        body: { current_password: password, new_password: newPassword },
      })
      expect(changed.status).toBe(200)
      keepPair('password change', changed.body.data)
      attempts.push({ event: 'auth.change_password', outcome: 'success', sent: changed })

      const [after] = await app.sql<
        { password_hash: string }[]
      >`select password_hash from attune.identity where lower(login) = lower(${login})`
      keep('Argon2 hash after the change', after?.password_hash as string)

      const oldPassword = await send(loginHandler, 'POST', '/auth/login', { body: { login, password } })
      expect(oldPassword.status).toBe(401)
      attempts.push({ event: 'auth.login', outcome: 'failure', reason: 'invalid_credentials', sent: oldPassword })

      const loggedOut = await send(logoutHandler, 'POST', '/auth/logout', { token, body: { scope: 'local' } })
      expect(loggedOut.status).toBe(200)
      attempts.push({ event: 'auth.logout', outcome: 'success', sent: loggedOut })

      expect((await send(meHandler, 'GET', '/auth/me', { token })).status).toBe(401)
      expect((await send(meHandler, 'GET', '/auth/me', { token: 'garbage.token.here' })).status).toBe(401)

      // The authorizer's own decisions, invoked as API Gateway invokes it: a live token, an ended session, junk.
      const live = await send(loginHandler, 'POST', '/auth/login', { body: { login, password: newPassword } })
      expect(live.status).toBe(200)
      keepPair('third login', live.body.data)
      attempts.push({ event: 'auth.login', outcome: 'success', sent: live })
      decisions.push({ ...(await authorizerDecision(live.body.data.access_token)), outcome: 'success' })
      decisions.push({ ...(await authorizerDecision(token)), outcome: 'failure' })
      decisions.push({ ...(await authorizerDecision('not-a-token')), outcome: 'failure' })

      // A service account's API key, made with the admin CLI and used: the key, and its random part, never appear.
      const service = `hygiene-${randomUUID().slice(0, 8)}`
      await runAdmin(['create-service-account', service], app.sql)
      const apiKey = (await runAdmin(['create-key', service, 'hygiene'], app.sql)).at(-1) as string
      keep('API key', apiKey)
      keep('API key random part', apiKey.slice(9, -6))
      decisions.push({ ...(await authorizerDecision(apiKey)), outcome: 'success' })
      const mistyped = `${apiKey.slice(0, -1)}${apiKey.endsWith('0') ? '1' : '0'}`
      decisions.push({ ...(await authorizerDecision(mistyped)), outcome: 'failure' })
      expect(decisions.map((d) => d.effect)).toEqual(['Allow', 'Deny', 'Deny', 'Allow', 'Deny'])
      flowRan = true
    } finally {
      logs.stop()
    }
  })

  afterAll(() => {
    logs?.stop()
    if (previousEnv === undefined) delete process.env['LOG_LEVEL']
    else process.env['LOG_LEVEL'] = previousEnv
    setLogLevel((previousEnv ?? 'silent') as LogLevel)
  })

  it('captured the flow at debug level, every line as structured JSON', () => {
    expect(flowRan).toBe(true)
    expect(logger.getLevelName()).toBe('DEBUG')
    expect(logs.lines.length).toBeGreaterThan(attempts.length)
    expect(logs.lines.filter((line) => line.json === undefined).map((line) => line.text)).toEqual([])
    // At debug level from before the first request to after the last (nothing reset it on the way).
    expect(levelDuringFlow).toBe('DEBUG')
  })

  it('writes no password, Argon2 hash, access or refresh token, token signature or JWT secret to any log line', () => {
    expect(secrets.size).toBeGreaterThanOrEqual(20)
    const leaks: string[] = []
    for (const line of logs.lines) {
      for (const [label, secret] of secrets) if (line.text.includes(secret)) leaks.push(`${label} in: ${line.text.slice(0, 300)}`)
      if (line.text.includes('$argon2id$')) leaks.push(`an Argon2 hash in: ${line.text.slice(0, 300)}`)
    }
    expect(leaks).toEqual([])
  })

  it("writes none of them to the audit log either: the flow's events hold no password, hash, token, signature or secret", async () => {
    const rows = await getApp().sql<{ type: string; text: string }[]>`
      select type, row_to_json(e)::text as text from attune.audit_event e where identity_id = ${identityId}`
    // The flow's changes are there (so the search below searched something).
    expect(new Set(rows.map((row) => row.type))).toEqual(
      new Set(['identity.registered', 'session.created', 'refresh.reuse_detected', 'session.ended', 'password.changed']),
    )
    const leaks: string[] = []
    for (const row of rows) {
      for (const [label, secret] of secrets) if (row.text.includes(secret)) leaks.push(`${label} in: ${row.text}`)
      if (row.text.includes('$argon2id$')) leaks.push(`an Argon2 hash in: ${row.text}`)
    }
    expect(leaks).toEqual([])
  })

  it('logs every authentication attempt, success and failure, as a structured event with the request ids', () => {
    const entries = logs.entries()
    const missing: string[] = []
    for (const attempt of attempts) {
      const found = entries.filter(
        (entry) =>
          entry['event'] === attempt.event &&
          entry['outcome'] === attempt.outcome &&
          entry['apiRequestId'] === attempt.sent.apiRequestId &&
          entry['function_request_id'] === attempt.sent.awsRequestId,
      )
      if (found.length !== 1)
        missing.push(`${attempt.event} ${attempt.outcome} (request ${attempt.sent.apiRequestId}): ${found.length} events`)
      else {
        expect(found[0]).toMatchObject({
          level: expect.any(String),
          message: expect.any(String),
          timestamp: expect.any(String),
          service: 'attune-auth',
        })
        if (attempt.reason) expect(found[0]).toMatchObject({ reason: attempt.reason })
      }
    }
    expect(missing).toEqual([])
    expect(attempts.filter((a) => a.outcome === 'failure').length).toBeGreaterThanOrEqual(7)
  })

  it('names typed logins by their keyed hash only, and says where every authentication event came from', () => {
    const pseudonymize = createPseudonymizer(getApp().config.pseudonymKey)
    const events = logs.entries().filter((entry) => String(entry['event']).startsWith('auth.'))
    expect(events.length).toBeGreaterThanOrEqual(attempts.length)
    for (const entry of events) {
      // The handlers' events come from the sample proxy event. The authorizer's come from events whose address
      // varies (npm start's, the sample authorizer event's) and which may have no User-Agent.
      if (entry['event'] === 'auth.authorize') expect(entry['sourceIp'], 'auth.authorize').toEqual(expect.any(String))
      else expect(entry, String(entry['event'])).toMatchObject({ sourceIp: '192.168.196.186', userAgent: 'PostmanRuntime/2.4.5' })
      expect(entry).not.toHaveProperty('login')
    }
    const refusedLogins = events.filter((entry) => entry['event'] === 'auth.login' && entry['outcome'] === 'failure')
    expect(refusedLogins.length).toBeGreaterThanOrEqual(3)
    for (const entry of refusedLogins) expect(entry['loginHash']).toMatch(/^[A-Za-z0-9_-]{22}$/)
    expect(refusedLogins.map((entry) => entry['loginHash'])).toContain(pseudonymize(secrets.get('unknown login typed') as string))
  })

  it('logs every authorizer decision, Allow and Deny, with the ids of the request it decided', () => {
    const entries = logs.entries()
    const missing: string[] = []
    for (const decision of decisions) {
      const found = entries.filter(
        (entry) =>
          entry['event'] === 'auth.authorize' &&
          entry['outcome'] === decision.outcome &&
          entry['apiRequestId'] === decision.apiRequestId &&
          entry['function_request_id'] === decision.awsRequestId,
      )
      if (found.length !== 1) {
        const logged = entries
          .filter((entry) => entry['event'] === 'auth.authorize')
          .map((e) =>
            JSON.stringify({ outcome: e['outcome'], apiRequestId: e['apiRequestId'], function_request_id: e['function_request_id'] }),
          )
        missing.push(
          `${decision.effect} for request ${decision.apiRequestId} / ${decision.awsRequestId}: ${found.length} events (authorizer events logged: ${logged.join(' ')})`,
        )
      }
    }
    expect(missing).toEqual([])
  })
})
