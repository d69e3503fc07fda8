/**
 * Per endpoint: database round trips, counted on the wire by a proxy in front of PostgreSQL
 * (tests/support/pg-counting-proxy.ts), and login time for an unknown login vs a wrong password
 * (the anti-enumeration figure).
 *
 * The handlers (functions/*.ts) build their dependencies on first use from process.env, so pointing
 * DATABASE_URL at the proxy before the first call routes this file's queries through it; one connection
 * per client, as in a Lambda container. A second app built with DATABASE_PREPARE=false (RDS Proxy /
 * PgBouncer transaction pooling) runs the same operations through lib/auth/ directly.
 * (vitest runs each benchmark file in a process of its own, so the environment changed here stays here.)
 */

import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda'
import { decodeJwt } from 'jose'
import { bench, describe } from 'vitest'
import { handler as authorizerHandler } from '../../functions/authorizer.js'
import { handler as changePasswordHandler } from '../../functions/change-password.js'
import { handler as endSessionHandler } from '../../functions/end-session.js'
import { handler as loginHandler } from '../../functions/login.js'
import { handler as logoutHandler } from '../../functions/logout.js'
import { handler as meHandler } from '../../functions/me.js'
import { handler as forgotHandler } from '../../functions/password-forgot.js'
import { handler as refreshHandler } from '../../functions/refresh.js'
import { handler as registerHandler } from '../../functions/register.js'
import { handler as sessionsHandler } from '../../functions/sessions.js'
import { createApp, getApp } from '../../lib/app.js'
import type { Caller } from '../../lib/auth/sessions.js'
import { createDecisionCaches } from '../../lib/authorizer/caches.js'
import { decide } from '../../lib/authorizer/decision.js'
import { loadConfig } from '../../lib/config.js'
import type { TokenPair } from '../../lib/tokens/service.js'
import { invoke, requestAuthorizerEvent, restEvent, uniqueLogin } from '../support/events.js'
import { formerDefaultHash } from '../support/passwords.js'
import type { WireCounts } from '../support/pg-counting-proxy.js'
import { startCountingProxy } from '../support/pg-counting-proxy.js'
import { loginInput, registerInput, rulesOf } from '../support/rules.js'
import { fixed, interleaved, markdownTable, median, ratio, recordGoals } from './support.js'

const proxy = await startCountingProxy(process.env['DATABASE_URL'] as string)
process.env['DATABASE_URL'] = proxy.url
process.env['DATABASE_POOL_MAX'] = '1'
// The login cases below guess one account's password hundreds of times: its throttle counts every guess (the
// cost measured here) but never answers 429. tests/integration/security/abuse-defence.test.ts proves the limits.
process.env['LOGIN_FREE_ATTEMPTS'] = '1000000'

const PASSWORD = 'correct horse battery staple'
const NEW_PASSWORD = 'correct horse battery staple 2'

/** The operations of one endpoint each; `authorize` is the Lambda authorizer on an access token. */
interface Operations {
  register(login: string, password: string): Promise<TokenPair>
  login(login: string, password: string): Promise<TokenPair | undefined>
  refresh(refreshToken: string): Promise<TokenPair>
  authorize(accessToken: string): Promise<void>
  me(caller: Caller): Promise<void>
  sessions(caller: Caller): Promise<void>
  changePassword(caller: Caller, current: string, next: string): Promise<void>
  endSession(caller: Caller, sessionId: string): Promise<void>
  logout(caller: Caller): Promise<void>
}

const callerOf = (accessToken: string): Caller => {
  const { sub, sid } = decodeJwt(accessToken)
  return { identityId: Number(sub), sessionId: String(sid) }
}

type Handler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>

/** The real handlers, with API Gateway events (protected routes get the context our authorizer attaches). */
function handlerOperations(): Operations {
  /** Session id → login, for the authorizer context of protected routes. */
  const logins = new Map<string, string>()
  const call = async (handler: Handler, method: string, path: string, body?: unknown, caller?: Caller, id?: string) => {
    const event = restEvent({
      method,
      path,
      body,
      authorizer: caller
        ? {
            principalId: String(caller.identityId),
            identityId: String(caller.identityId),
            login: logins.get(caller.sessionId) ?? 'someone',
            sessionId: caller.sessionId,
          }
        : null,
    })
    if (id) event.pathParameters = { id }
    const res = await invoke(handler, event)
    if (res.status !== 200 && !(path === '/auth/login' && res.status === 401))
      throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(res.body)}`)
    return res
  }
  /** Tokens carry ids only: the login a session belongs to is remembered from the request that opened it. */
  const remember = (login: string, pair: TokenPair): TokenPair => {
    logins.set(String(decodeJwt(pair.access_token)['sid']), login)
    return pair
  }
  const loginOfToken = (refreshToken: string): string => logins.get(String(decodeJwt(refreshToken)['sid'])) ?? 'someone'
  return {
    register: async (login, password) =>
      remember(login, (await call(registerHandler, 'POST', '/auth/register', { login, password })).body.data),
    login: async (login, password) => {
      const res = await call(loginHandler, 'POST', '/auth/login', { login, password })
      return res.status === 200 ? remember(login, res.body.data) : undefined
    },
    refresh: async (refresh_token) =>
      remember(loginOfToken(refresh_token), (await call(refreshHandler, 'POST', '/auth/refresh', { refresh_token })).body.data),
    authorize: async (accessToken) => {
      const result = await authorizerHandler(requestAuthorizerEvent({ Authorization: `Bearer ${accessToken}` }))
      if (result.policyDocument.Statement[0]?.Effect !== 'Allow') throw new Error('authorizer refused')
    },
    me: async (caller) => void (await call(meHandler, 'GET', '/auth/me', undefined, caller)),
    sessions: async (caller) => void (await call(sessionsHandler, 'GET', '/auth/sessions', undefined, caller)),
    changePassword: async (caller, current_password, new_password) =>
      void (await call(changePasswordHandler, 'POST', '/auth/change-password', { current_password, new_password }, caller)),
    endSession: async (caller, id) => void (await call(endSessionHandler, 'DELETE', `/auth/sessions/${id}`, undefined, caller, id)),
    logout: async (caller) => void (await call(logoutHandler, 'POST', '/auth/logout', { scope: 'local' }, caller)),
  }
}

/** lib/auth/ and lib/authorizer/ on an app of their own, built from `env` (e.g. DATABASE_PREPARE=false). */
function appOperations(env: Record<string, string>): Operations & { end(): Promise<void> } {
  const app = createApp(loadConfig({ ...process.env, ...env }))
  const rules = rulesOf(app)
  const client = { requestId: null, userAgent: 'bench', sourceIp: '127.0.0.1' }
  // One permissions cache for the container, as functions/authorizer.ts keeps it.
  const authorizer = { ...app, ...createDecisionCaches(app.sql, app.config) }
  return {
    register: (login, password) => rules.register(registerInput(login, password), client),
    login: async (login, password) => {
      const answer = await rules.login(loginInput(login, password), client).catch(() => undefined)
      // The bench's users have no second factor: a token pair, or a refusal.
      return answer && 'access_token' in answer ? answer : undefined
    },
    refresh: (refresh_token) => rules.refresh({ refresh_token }, client),
    authorize: async (accessToken) => {
      const decision = await decide(requestAuthorizerEvent({ Authorization: `Bearer ${accessToken}` }), authorizer)
      if (decision.effect !== 'Allow') throw new Error('authorizer refused')
    },
    me: async (caller) => void (await rules.profile(caller)),
    sessions: async (caller) => void (await rules.listSessions(caller)),
    changePassword: async (caller, current_password, new_password) =>
      void (await rules.changePassword(caller, { current_password, new_password }, client)),
    endSession: async (caller, id) => void (await rules.endSession(caller, id, client)),
    logout: async (caller) => void (await rules.logout(caller, { scope: 'local' }, client)),
    end: () => app.sql.end(),
  }
}

const ENDPOINTS = [
  { name: 'POST /auth/register', goal: '' },
  { name: 'POST /auth/login', goal: '2' },
  { name: 'POST /auth/login, unknown login', goal: '' },
  { name: 'POST /auth/login, wrong password', goal: '' },
  { name: 'authorizer (Allow)', goal: '' },
  { name: 'authorizer (Allow), the same identity again', goal: '1' },
  { name: 'GET /auth/me', goal: '1' },
  { name: 'POST /auth/refresh', goal: '2' },
  { name: 'GET /auth/sessions', goal: '' },
  { name: 'POST /auth/change-password', goal: '' },
  { name: 'DELETE /auth/sessions/{id}', goal: '' },
  { name: 'POST /auth/logout', goal: '' },
] as const
type EndpointName = (typeof ENDPOINTS)[number]['name']

/** One user's journey through every endpoint; the wire counts of each step. */
async function journey(ops: Operations): Promise<Map<EndpointName, WireCounts>> {
  const counts = new Map<EndpointName, WireCounts>()
  const step = async <T>(name: EndpointName, run: () => Promise<T>): Promise<T> => {
    proxy.reset()
    const result = await run()
    counts.set(name, proxy.counts())
    return result
  }
  const login = uniqueLogin('bench')
  await step('POST /auth/register', () => ops.register(login, PASSWORD))
  const pair = (await step('POST /auth/login', () => ops.login(login, PASSWORD))) as TokenPair
  await step('POST /auth/login, unknown login', () => ops.login(uniqueLogin('nobody'), PASSWORD))
  await step('POST /auth/login, wrong password', () => ops.login(login, 'not the password at all'))
  // An identity's first decision reads its grants; the next ones find them in the cache (no query).
  await step('authorizer (Allow)', () => ops.authorize(pair.access_token))
  await step('authorizer (Allow), the same identity again', () => ops.authorize(pair.access_token))
  const caller = callerOf(pair.access_token)
  await step('GET /auth/me', () => ops.me(caller))
  const refreshed = await step('POST /auth/refresh', () => ops.refresh(pair.refresh_token))
  await step('GET /auth/sessions', () => ops.sessions(caller))
  await ops.login(login, PASSWORD) // another session, which the password change ends
  await step('POST /auth/change-password', () => ops.changePassword(callerOf(refreshed.access_token), PASSWORD, NEW_PASSWORD))
  const another = callerOf(((await ops.login(login, NEW_PASSWORD)) as TokenPair).access_token)
  await step('DELETE /auth/sessions/{id}', () => ops.endSession(caller, another.sessionId))
  await step('POST /auth/logout', () => ops.logout(caller))
  return counts
}

const handlers = handlerOperations()
const firstPass = await journey(handlers) // the container's first requests: connections opened, statements new
const warmPass = await journey(handlers)
const unprepared = appOperations({ DATABASE_PREPARE: 'false' })
await journey(unprepared)
const unpreparedPass = await journey(unprepared)
await unprepared.end()

const show = (c: WireCounts | undefined): string => (c ? `${c.roundTrips}` : 'n/a')
console.log(
  markdownTable(
    'Database round trips per request (counted on the wire; warm = a second request of the same kind)',
    ['endpoint', 'goal', 'round trips, warm', 'statements, warm', 'first request of a container', 'warm, DATABASE_PREPARE=false'],
    ENDPOINTS.map(({ name, goal }) => {
      const first = firstPass.get(name)
      const firstText = first ? `${first.roundTrips}${first.connections ? ` (opens ${first.connections} connection)` : ''}` : 'n/a'
      return [
        name,
        goal || '–',
        show(warmPass.get(name)),
        String(warmPass.get(name)?.statements ?? 'n/a'),
        firstText,
        show(unpreparedPass.get(name)),
      ]
    }),
  ),
)

// ---- Login time: unknown login vs wrong password (the anti-enumeration figure), and the right password.
const loginUser = uniqueLogin('bench-login')
await handlers.register(loginUser, PASSWORD)
// A user whose stored hash is still at the former default (19 MiB, t=2), as before rehash-on-login.
const oldHashUser = uniqueLogin('bench-old-hash')
await handlers.register(oldHashUser, PASSWORD)
const oldHash = await formerDefaultHash(PASSWORD)
const oldHashIdentity = await getApp().identities.findByLogin(oldHashUser)
if (!oldHashIdentity) throw new Error('bench user missing')
await getApp().identities.rehashPassword(oldHashIdentity.id, oldHashIdentity.credentialsVersion, oldHash)

const NAMES = {
  unknown: 'login, unknown login (401)',
  wrong: 'login, wrong password (401)',
  right: 'login, right password (200, opens a session)',
  oldWrong: 'login, wrong password, account still on a 19 MiB/t=2 hash (401)',
}
const loginCases: Record<string, () => unknown> = {
  [NAMES.unknown]: () => handlers.login(uniqueLogin('nobody'), PASSWORD),
  [NAMES.wrong]: () => handlers.login(loginUser, 'not the password at all'),
  [NAMES.right]: () => handlers.login(loginUser, PASSWORD),
  [NAMES.oldWrong]: () => handlers.login(oldHashUser, 'not the password at all'),
}
const ROUNDS = 25
const loginTimes = await interleaved(loginCases, ROUNDS)
const loginMedian = (name: string): number => median(loginTimes.get(name) ?? [])
console.log(
  markdownTable(
    `Login handler, warm, median ms (${ROUNDS} interleaved rounds; anti-enumeration: unknown login vs wrong password)`,
    ['case', 'ms', '÷ wrong password'],
    Object.values(NAMES).map((name) => [name, fixed(loginMedian(name)), ratio(loginMedian(name), loginMedian(NAMES.wrong))]),
  ),
)

// ---- Password reset requests: unknown login vs account without a verified address vs one with (anti-enumeration).
const FORGOT = {
  unknown: 'forgot, unknown login (202)',
  unverified: 'forgot, account without a verified address (202)',
  verified: 'forgot, verified address (202, token and mail queued)',
}
const unverifiedUser = uniqueLogin('bench-forgot-unverified')
await handlers.register(unverifiedUser, PASSWORD)
// One verified account per request: a second request within a minute would be refused by the per-account mail limit.
// Each answer waits out FORGOT_ANSWER_FLOOR_MS (100 ms), so rounds are slow: as many as login's.
const FORGOT_ROUNDS = ROUNDS
const verifiedUsers: string[] = []
for (let i = 0; i < FORGOT_ROUNDS + 5; i++) {
  const login = uniqueLogin('bench-forgot')
  await handlers.register(login, PASSWORD)
  await getApp().sql`update attune.identity set email = ${`${login}@bench.attune.test`} where login = ${login}`
  verifiedUsers.push(login)
}
const forgot = async (login: string) => {
  const res = await invoke(forgotHandler, restEvent({ method: 'POST', path: '/auth/password/forgot', body: { login } }))
  if (res.status !== 202) throw new Error(`POST /auth/password/forgot: ${res.status} ${JSON.stringify(res.body)}`)
}
const forgotCases: Record<string, () => unknown> = {
  [FORGOT.unknown]: () => forgot(uniqueLogin('nobody')),
  [FORGOT.unverified]: () => forgot(unverifiedUser),
  [FORGOT.verified]: () => forgot(verifiedUsers.shift() ?? uniqueLogin('ran-out')),
}
const forgotTimes = await interleaved(forgotCases, FORGOT_ROUNDS)
const forgotMedian = (name: string): number => median(forgotTimes.get(name) ?? [])
console.log(
  markdownTable(
    `Password-reset request handler, warm, median ms (${FORGOT_ROUNDS} interleaved rounds; anti-enumeration)`,
    ['case', 'ms', '÷ unknown login'],
    Object.values(FORGOT).map((name) => [name, fixed(forgotMedian(name)), ratio(forgotMedian(name), forgotMedian(FORGOT.unknown))]),
  ),
)
const forgotSpread = Math.max(...Object.values(FORGOT).map(forgotMedian)) / Math.min(...Object.values(FORGOT).map(forgotMedian))

const roundTripGoals = ENDPOINTS.filter(({ goal }) => goal !== '').map(({ name, goal }) => {
  const warm = warmPass.get(name)?.roundTrips
  return {
    goal: `round trips, ${name}: ≤ ${goal}`,
    measured: warm === undefined ? 'n/a' : `${warm} (warm)`,
    met: warm !== undefined && warm <= Number(goal),
  }
})
const enumeration = loginMedian(NAMES.unknown) / loginMedian(NAMES.wrong)
recordGoals('endpoints', [
  ...roundTripGoals,
  {
    goal: 'login: unknown login vs wrong password, the same time (our bound: ±10%)',
    measured: `${fixed(loginMedian(NAMES.unknown))} vs ${fixed(loginMedian(NAMES.wrong))} ms (${enumeration.toFixed(2)}x)`,
    met: Math.abs(enumeration - 1) <= 0.1,
  },
  {
    goal: 'password reset request: unknown, unverified and verified accounts, the same time (±10%)',
    measured: `${Object.values(FORGOT)
      .map((name) => fixed(forgotMedian(name)))
      .join(' / ')} ms (widest ${forgotSpread.toFixed(2)}x)`,
    met: forgotSpread <= 1.1,
  },
])

const OPTIONS = { time: 0, iterations: 10, warmupTime: 0, warmupIterations: 2 }
describe('POST /auth/login handler, warm (anti-enumeration: unknown vs wrong password)', () => {
  for (const [name, run] of Object.entries(loginCases)) bench(name, async () => void (await run()), OPTIONS)
})
