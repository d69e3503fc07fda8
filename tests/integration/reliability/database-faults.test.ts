/**
 * Faults: the database unreachable at cold start, gone mid-life, stopped mid-request,
 * too slow, or answering nonsense. Each request answers `503 {"error": "Service temporarily
 * unavailable", "code": "SERVICE_UNAVAILABLE"}` within the bounded connect or statement timeout (a hang
 * would trip the test's timeout, far under API Gateway's 29 s), and when the database is back the SAME
 * app object — a warm Lambda container — serves again, without being rebuilt.
 *
 * A PostgreSQL of its own (not the shared test database), started and stopped on the same port and data
 * folder; an app built with createApp(loadConfig(...)) against it with short timeouts; requests through
 * the HTTP layer (jsonRoute) with that app.
 */

import { chmod, mkdtemp, rm } from 'node:fs/promises'
import type { Server, Socket } from 'node:net'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda'
import postgres from 'postgres'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { LocalDatabase } from '../../../infra/local/database.js'
import { freePort, startLocalDatabase } from '../../../infra/local/database.js'
import type { App } from '../../../lib/app.js'
import { createApp } from '../../../lib/app.js'
import { LoginBody, RegisterBody } from '../../../lib/auth/requests.js'
import { createDecisionCaches } from '../../../lib/authorizer/caches.js'
import { decide } from '../../../lib/authorizer/decision.js'
import { loadConfig } from '../../../lib/config.js'
import { migrate } from '../../../lib/db/migrate.js'
import { toApiError } from '../../../lib/http/failures.js'
import { jsonRoute } from '../../../lib/http/route.js'
import { lambdaContext, requestAuthorizerEvent, restEvent, uniqueLogin } from '../../support/events.js'
import { loginInput, rulesOf } from '../../support/rules.js'

const CONNECT_TIMEOUT_S = 2
const STATEMENT_TIMEOUT_MS = 1000
const UNAVAILABLE = { error: 'Service temporarily unavailable', code: 'SERVICE_UNAVAILABLE', reason: 'service_unavailable' }
const PASSWORD = 'securepassword123'

/** What each fault looked like, for the README's reliability figures (printed when RELIABILITY_REPORT is set). */
const findings: Array<{ fault: string; code: string; ms: number }> = []

function appFor(url: string): App {
  return createApp(
    loadConfig({
      STAGE: 'test',
      JWT_SECRET: 'fault-injection-secret-of-at-least-32-bytes',
      PSEUDONYM_KEY: process.env['PSEUDONYM_KEY'],
      MFA_ENCRYPTION_KEYS: process.env['MFA_ENCRYPTION_KEYS'],
      EMAIL_FROM: process.env['EMAIL_FROM'],
      PASSWORD_RESET_URL: process.env['PASSWORD_RESET_URL'],
      EMAIL_VERIFY_URL: process.env['EMAIL_VERIFY_URL'],
      DATABASE_URL: url,
      DATABASE_CONNECT_TIMEOUT: String(CONNECT_TIMEOUT_S),
      DATABASE_STATEMENT_TIMEOUT: String(STATEMENT_TIMEOUT_MS),
      DATABASE_POOL_MAX: '1',
      LOG_LEVEL: 'silent',
    }),
  )
}

type Handler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>

/** The code of the last error a route's auth call failed with (what toApiError saw). */
let lastCause = ''
const noting = <T>(promise: Promise<T>): Promise<T> =>
  promise.catch((error: unknown) => {
    lastCause = codeOf(error)
    throw error
  })

/** The app's routes as the Lambda handlers build them, bound to this app instead of getApp(). */
function routes(app: App): { register: Handler; login: Handler; me: Handler } {
  return {
    register: jsonRoute({ body: RegisterBody }, ({ body, client }) => noting(rulesOf(app).register(body, client))),
    login: jsonRoute({ body: LoginBody }, ({ body, client }) => noting(rulesOf(app).login(body, client))),
    me: jsonRoute({ authenticated: true }, ({ user }) => noting(rulesOf(app).profile(user))),
  }
}

interface Timed {
  status: number
  body: any
  ms: number
}

async function timed(handler: Handler, event: APIGatewayProxyEvent, context: Context = lambdaContext()): Promise<Timed> {
  lastCause = ''
  const started = performance.now()
  const result = await handler(event, context)
  return { status: result.statusCode, body: JSON.parse(result.body), ms: Math.round(performance.now() - started) }
}

const loginEvent = (login: string, password = PASSWORD): APIGatewayProxyEvent =>
  restEvent({ method: 'POST', path: '/auth/login', body: { login, password } })
const registerEvent = (login: string): APIGatewayProxyEvent =>
  restEvent({ method: 'POST', path: '/auth/register', body: { login, password: PASSWORD } })
const meEvent = (identityId: number, login: string, sessionId: string): APIGatewayProxyEvent =>
  restEvent({ method: 'GET', path: '/auth/me', authorizer: { principalId: String(identityId), identityId, login, sessionId } })

/** The error an auth call rejected with (the test fails if it resolved). */
async function rejection(promise: Promise<unknown>): Promise<{ error: unknown; ms: number }> {
  const started = performance.now()
  const error = await promise.then(
    () => {
      throw new Error('expected the call to fail')
    },
    (e: unknown) => e,
  )
  return { error, ms: Math.round(performance.now() - started) }
}

function codeOf(error: unknown): string {
  return String((error as { code?: unknown })?.code ?? (error as Error)?.name)
}

async function waitUntil(condition: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = performance.now() + timeoutMs
  while (!(await condition())) {
    if (performance.now() > deadline) throw new Error('condition not reached')
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

/** A TCP listener standing in for a broken database endpoint. */
async function fakeEndpoint(
  onConnection: (socket: Socket) => void,
): Promise<{ port: number; connections: () => number; close: () => Promise<void> }> {
  let connections = 0
  const sockets = new Set<Socket>()
  const server: Server = createServer((socket) => {
    connections += 1
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    socket.on('error', () => {})
    onConnection(socket)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  if (typeof address !== 'object' || address === null) throw new Error('no address')
  return {
    port: address.port,
    connections: () => connections,
    close: async () => {
      for (const socket of sockets) socket.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

describe('database faults', () => {
  let root: string
  let dataDir: string
  let port: number
  let db: LocalDatabase | undefined
  let url: string
  const apps: App[] = []

  const start = async (): Promise<void> => {
    db = await startLocalDatabase({ dataDir, port, persistent: true })
    url = db.url
  }
  const stop = async (): Promise<void> => {
    await db?.stop()
    db = undefined
  }
  const track = (app: App): App => {
    apps.push(app)
    return app
  }

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'attune-auth-faults-'))
    await chmod(root, 0o755) // as root, the server runs as the postgres user, which must enter this folder
    dataDir = join(root, 'pg')
    port = await freePort()
    await start()
    await migrate(url)
  })

  afterAll(async () => {
    await Promise.all(apps.map((app) => app.sql.end({ timeout: 0 })))
    await stop()
    if (root) await rm(root, { recursive: true, force: true })
    if (process.env['RELIABILITY_REPORT']) for (const f of findings) console.log(`fault: ${f.fault} -> ${f.code}, 503 after ${f.ms} ms`)
  })

  it('maps a database that is unreachable at cold start (nothing listens on its port) to 503, on the auth call and over HTTP', async () => {
    const closed = await freePort()
    const app = track(appFor(`postgres://postgres:x@127.0.0.1:${closed}/attune`))

    const { error, ms } = await rejection(
      rulesOf(app).login(loginInput('someone', PASSWORD), { requestId: null, userAgent: null, sourceIp: null }),
    )
    expect(toApiError(error)).toMatchObject({ status: 503, code: 'SERVICE_UNAVAILABLE' })
    findings.push({ fault: 'cold start, port closed (auth call)', code: codeOf(error), ms })

    const res = await timed(routes(app).login, loginEvent('someone'))
    expect(res).toMatchObject({ status: 503, body: UNAVAILABLE })
    findings.push({ fault: 'cold start, port closed (HTTP)', code: lastCause, ms: res.ms })
  })

  it('maps a host that does not resolve to 503', async () => {
    const app = track(appFor('postgres://postgres:x@attune-db.invalid:5432/attune?sslmode=verify-full'))
    const res = await timed(routes(app).login, loginEvent('someone'))
    expect(res).toMatchObject({ status: 503, body: UNAVAILABLE })
    const { error } = await rejection(
      rulesOf(app).login(loginInput('someone', PASSWORD), { requestId: null, userAgent: null, sourceIp: null }),
    )
    findings.push({ fault: 'cold start, host does not resolve', code: codeOf(error), ms: res.ms })
  })

  it(`answers 503 within the ${CONNECT_TIMEOUT_S} s connect timeout when the database port accepts connections but never answers`, async () => {
    const silent = await fakeEndpoint(() => {})
    try {
      const app = track(appFor(`postgres://postgres:x@127.0.0.1:${silent.port}/attune`))
      const res = await timed(routes(app).login, loginEvent('someone'))
      expect(res).toMatchObject({ status: 503, body: UNAVAILABLE })
      const { error } = await rejection(
        rulesOf(app).login(loginInput('someone', PASSWORD), { requestId: null, userAgent: null, sourceIp: null }),
      )
      expect(codeOf(error)).toBe('CONNECT_TIMEOUT')
      findings.push({ fault: 'port accepts, never answers', code: 'CONNECT_TIMEOUT', ms: res.ms })
    } finally {
      await silent.close()
    }
  })

  it('recovers, without being rebuilt, from a cold start while the database was down', async () => {
    await stop()
    const app = track(appFor(url))
    try {
      const down = await timed(routes(app).login, loginEvent('someone'))
      expect(down).toMatchObject({ status: 503, body: UNAVAILABLE })
      findings.push({ fault: 'cold start, server stopped', code: lastCause, ms: down.ms })
    } finally {
      await start()
    }
    const login = uniqueLogin('cold')
    expect((await timed(routes(app).register, registerEvent(login))).status).toBe(200)
    expect((await timed(routes(app).login, loginEvent(login))).status).toBe(200)
  })

  it('answers 503 while the server is stopped mid-life, then the same app object recovers when it is back on the same port and data', async () => {
    const app = track(appFor(url))
    const http = routes(app)
    const login = uniqueLogin('midlife')
    const registered = await timed(http.register, registerEvent(login))
    expect(registered.status).toBe(200)
    const { identityId, sessionId } = await app.tokens.verifyAccessToken(registered.body.data.access_token)
    expect((await timed(http.me, meEvent(identityId, login, sessionId))).status).toBe(200)

    await stop()
    try {
      const { error, ms } = await rejection(
        rulesOf(app).login(loginInput(login, PASSWORD), { requestId: null, userAgent: null, sourceIp: null }),
      )
      expect(toApiError(error)).toMatchObject({ status: 503, code: 'SERVICE_UNAVAILABLE' })
      findings.push({ fault: 'server stopped mid-life (auth call)', code: codeOf(error), ms })

      const calls: Array<[string, () => Promise<Timed>]> = [
        ['login', () => timed(http.login, loginEvent(login))],
        ['register', () => timed(http.register, registerEvent(uniqueLogin('while-down')))],
        ['me', () => timed(http.me, meEvent(identityId, login, sessionId))],
      ]
      for (const [name, call] of calls) {
        const res = await call()
        expect(res, name).toMatchObject({ status: 503, body: UNAVAILABLE })
        findings.push({ fault: `server stopped mid-life (${name})`, code: lastCause, ms: res.ms })
      }

      // The authorizer's session lookup fails the same way: an error that maps to 503, never an Allow or a Deny.
      const event = requestAuthorizerEvent({ Authorization: `Bearer ${registered.body.data.access_token}` })
      const decision = await rejection(
        decide(event, { tokens: app.tokens, sessions: app.sessions, ...createDecisionCaches(app.sql, app.config) }),
      )
      expect(toApiError(decision.error)).toMatchObject({ status: 503, code: 'SERVICE_UNAVAILABLE' })
    } finally {
      await start()
    }

    // The same app, the same postgres.js client: it reconnects on the next request. As after a shutdown
    // under a request (below), that first request may still get the error the shutdown left behind
    // (57P01, seen with PostgreSQL 15's pg_ctl stop): a 503, never a 500; from the next one on it serves.
    lastCause = ''
    const first = await timed(http.login, loginEvent(login))
    if (first.status !== 200) expect({ status: first.status, cause: lastCause }).toEqual({ status: 503, cause: '57P01' })
    expect((await timed(http.login, loginEvent(login))).status).toBe(200)
    expect((await timed(http.me, meEvent(identityId, login, sessionId))).status).toBe(200)
    const event = requestAuthorizerEvent({ Authorization: `Bearer ${registered.body.data.access_token}` })
    expect(await decide(event, { tokens: app.tokens, sessions: app.sessions, ...createDecisionCaches(app.sql, app.config) })).toMatchObject(
      {
        effect: 'Allow',
        identityId,
      },
    )
  })

  it(`answers 503 after the ${STATEMENT_TIMEOUT_MS} ms statement timeout when the database is too slow, then serves again`, async () => {
    const app = track(appFor(url))
    const login = uniqueLogin('slow')
    expect((await timed(routes(app).register, registerEvent(login))).status).toBe(200)

    const blocker = postgres(url, { max: 1, onnotice: () => {} })
    try {
      const reserved = await blocker.reserve()
      await reserved`begin`
      await reserved`lock table attune.identity in access exclusive mode`
      const res = await timed(routes(app).login, loginEvent(login))
      expect(res).toMatchObject({ status: 503, body: UNAVAILABLE })
      expect(res.ms).toBeGreaterThanOrEqual(STATEMENT_TIMEOUT_MS - 50)
      const { error } = await rejection(
        rulesOf(app).login(loginInput(login, PASSWORD), { requestId: null, userAgent: null, sourceIp: null }),
      )
      expect(codeOf(error)).toBe('57014')
      findings.push({ fault: 'statement timeout (table locked)', code: '57014', ms: res.ms })
      await reserved`rollback`
      reserved.release()
    } finally {
      await blocker.end({ timeout: 0 })
    }
    expect((await timed(routes(app).login, loginEvent(login))).status).toBe(200)
  })

  it('answers 503 to a request in flight when the server shuts down under it, then the same app serves again', async () => {
    const app = track(appFor(url))
    const login = uniqueLogin('inflight')
    expect((await timed(routes(app).register, registerEvent(login))).status).toBe(200)

    const blocker = postgres(url, { max: 1, onnotice: () => {} })
    let inFlight: Promise<Timed> | undefined
    try {
      const reserved = await blocker.reserve()
      await reserved`begin`
      await reserved`lock table attune.identity in access exclusive mode`
      inFlight = timed(routes(app).login, loginEvent(login))
      // Let the login reach the database and wait on the lock, then stop the server under it (a fast
      // shutdown: every backend is terminated, the one holding the lock and the one waiting on it).
      await waitUntil(async () => {
        const [row] = await reserved<
          { waiting: number }[]
        >`select count(*)::int as waiting from pg_stat_activity where application_name = 'attune-auth' and wait_event_type = 'Lock'`
        return (row?.waiting ?? 0) > 0
      })
      await stop()
      const res = await inFlight
      expect(res).toMatchObject({ status: 503, body: UNAVAILABLE })
      findings.push({ fault: 'server shut down mid-request', code: lastCause, ms: res.ms })
    } finally {
      await blocker.end({ timeout: 0 })
      if (!db) await start()
    }
    // postgres.js hands the first query after the restart the error the shutdown left behind (57P01
    // "terminating connection due to administrator command"): that request is a 503 too, never a 500,
    // and from the next one on the same client serves normally.
    const after: number[] = []
    const causes: string[] = []
    for (let i = 0; i < 4; i++) {
      after.push((await timed(routes(app).login, loginEvent(login))).status)
      if (lastCause) causes.push(lastCause)
    }
    expect(after.every((status) => status === 200 || status === 503)).toBe(true)
    expect(after.slice(1)).toEqual([200, 200, 200])
    findings.push({ fault: `first requests after the restart: ${after.join(', ')}`, code: causes.join(', ') || 'none', ms: 0 })
  })

  it('answers 503 before the Lambda times out when the database endpoint accepts connections and drops them (postgres.js reconnects forever: porsager/postgres#1193)', async () => {
    const dropping = await fakeEndpoint((socket) => socket.end())
    const app = track(appFor(`postgres://postgres:x@127.0.0.1:${dropping.port}/attune`))
    try {
      // A Lambda with 3 s left: middy's early timeout is all that bounds this request.
      const context: Context = { ...lambdaContext(), getRemainingTimeInMillis: () => 3000 }
      const res = await timed(routes(app).login, loginEvent('someone'), context)
      expect(res).toMatchObject({ status: 503, body: UNAVAILABLE })
      findings.push({
        fault: `endpoint accepts and drops connections (${dropping.connections()} connection attempts)`,
        code: 'middy TimeoutError',
        ms: res.ms,
      })
    } finally {
      await app.sql.end({ timeout: 0 })
      await dropping.close()
    }
  })
})
