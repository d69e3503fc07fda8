/**
 * Throttling, lockout and the password blocklist on a real PostgreSQL, with the real defaults (the suite's
 * environment lifts the per-address limits, since every test request shares one address: here an app of its
 * own reads the defaults). Requests go through the real middy stack on API Gateway events, each from the
 * source address a case chooses; Argon2 computations are counted on the wire of lib/passwords/argon2id.ts.
 */
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import type { App } from '../../../lib/app.js'
import { createApp, getApp } from '../../../lib/app.js'
import { ChangePasswordBody, LoginBody, RefreshBody, RegisterBody } from '../../../lib/auth/requests.js'
import { loadConfig } from '../../../lib/config.js'
import { jsonRoute } from '../../../lib/http/route.js'
import type { Parsed } from '../../support/events.js'
import { invoke, lambdaContext, restEvent, uniqueLogin } from '../../support/events.js'
import { expectMatchesOpenApi } from '../../support/openapi.js'
import { rulesOf } from '../../support/rules.js'

const argon2 = vi.hoisted(() => ({ calls: 0 }))
vi.mock('../../../lib/passwords/argon2id.js', async (importOriginal) => {
  const actual = await importOriginal<typeof import('../../../lib/passwords/argon2id.js')>()
  return {
    ...actual,
    createArgon2id: async (...args: Parameters<typeof actual.createArgon2id>) => {
      const instance = await actual.createArgon2id(...args)
      return {
        ...instance,
        hash: (...hashArgs: Parameters<typeof instance.hash>) => {
          argon2.calls += 1
          return instance.hash(...hashArgs)
        },
      }
    },
  }
})

type Handler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>
const PASSWORD = 'a-sound-password-42'
const THROTTLED = { code: 'TOO_MANY_REQUESTS', reason: 'too_many_attempts' }

let app: App
let routes: { register: Handler; login: Handler; refresh: Handler; changePassword: Handler }

/** An address no other test uses, so per-address counters start at zero. */
let nextAddress = 0
const freshAddress = (): string => {
  nextAddress += 1
  return `10.${process.pid & 255}.${(nextAddress >> 8) & 255}.${nextAddress & 255}`
}

async function send(
  handler: Handler,
  path: string,
  body: unknown,
  options: { sourceIp?: string; authorizer?: Record<string, string | number> } = {},
): Promise<Parsed<any>> {
  const event = restEvent({ method: 'POST', path, body, ...(options.authorizer ? { authorizer: options.authorizer } : {}) })
  event.requestContext.identity.sourceIp = options.sourceIp ?? '192.0.2.1'
  const res = await invoke(handler, event)
  expectMatchesOpenApi('POST', path, res.status, res.body)
  return res
}

const login = (body: unknown, sourceIp?: string) => send(routes.login, '/auth/login', body, sourceIp ? { sourceIp } : {})
const register = (body: unknown, sourceIp: string) => send(routes.register, '/auth/register', body, { sourceIp })

async function counted<T>(action: () => Promise<T>): Promise<{ result: T; calls: number }> {
  const before = argon2.calls
  const result = await action()
  return { result, calls: argon2.calls - before }
}

/** Ends the current wait of a login's counter, as if its time had passed (the count stays). */
const endWait = (name: string) =>
  app.sql`update attune.throttle set blocked_until = now() - interval '1 second' where key = ${app.throttleKeys.login(name)}`

async function newUser(password = PASSWORD): Promise<{ login: string; identityId: number; tokens: any }> {
  const name = uniqueLogin('abuse')
  const res = await register({ login: name, password }, freshAddress())
  expect(res.status).toBe(200)
  const { identityId } = await app.tokens.verifyAccessToken(res.body.data.access_token)
  return { login: name, identityId, tokens: res.body.data }
}

beforeAll(() => {
  const env: Record<string, string | undefined> = { ...process.env, LOG_LEVEL: 'silent' }
  delete env['REGISTRATIONS_PER_ADDRESS']
  delete env['ADDRESS_MAX_FAILURES']
  app = createApp(loadConfig(env))
  const rules = rulesOf(app)
  routes = {
    register: jsonRoute({ body: RegisterBody }, ({ body, client }) => rules.register(body, client)),
    login: jsonRoute({ body: LoginBody }, ({ body, client }) => rules.login(body, client)),
    refresh: jsonRoute({ body: RefreshBody }, ({ body, client }) => rules.refresh(body, client)),
    changePassword: jsonRoute({ authenticated: true, body: ChangePasswordBody }, ({ user, body, client }) =>
      rules.changePassword(user, body, client),
    ),
  }
})

afterAll(async () => {
  await app.sql.end()
})

describe('login throttling per account', () => {
  it('lets 5 failures through, then answers 429 with Retry-After and costs no Argon2, the right password included', async () => {
    const user = await newUser()
    for (let i = 0; i < 5; i++)
      expect((await login({ login: user.login, password: `wrong-${i}-password` }, freshAddress())).status).toBe(401)
    const { result, calls } = await counted(() => login({ login: user.login, password: PASSWORD }, freshAddress()))
    expect(result).toMatchObject({ status: 429, body: THROTTLED })
    expect(result.headers['Retry-After']).toBe('1')
    expect(calls).toBe(0)
  })

  it('never lets more than the free attempts reach Argon2 when 30 wrong attempts arrive at once', async () => {
    const user = await newUser()
    const { result, calls } = await counted(() =>
      Promise.all(Array.from({ length: 30 }, (_, i) => login({ login: user.login, password: `parallel-${i}-guess` }, freshAddress()))),
    )
    expect(result.filter((res) => res.status === 401)).toHaveLength(5)
    expect(result.filter((res) => res.status === 429)).toHaveLength(25)
    expect(calls).toBe(5)
  })

  it('doubles the wait after each failure past the free ones (1, 2, 4, 8 s), and lets the next attempt in when it ends', async () => {
    const user = await newUser()
    for (let i = 0; i < 5; i++) await login({ login: user.login, password: `wrong-${i}-password` }, freshAddress())
    const waits: string[] = []
    for (let i = 0; i < 4; i++) {
      const refused = await login({ login: user.login, password: 'still-wrong-pass' }, freshAddress())
      expect(refused.status).toBe(429)
      waits.push(String(refused.headers['Retry-After']))
      await endWait(user.login)
      expect((await login({ login: user.login, password: 'still-wrong-pass' }, freshAddress())).status).toBe(401)
    }
    expect(waits).toEqual(['1', '2', '4', '8'])
  })

  it('caps the wait at LOGIN_MAX_DELAY_SECONDS (15 minutes): no lock outlives it', async () => {
    const user = await newUser()
    const key = app.throttleKeys.login(user.login)
    await app.sql`
      insert into attune.throttle (key, failures, window_start, blocked_until, touched)
      values (${key}, 40, now(), now() - interval '1 second', now())`
    expect((await login({ login: user.login, password: 'wrong-password-40' }, freshAddress())).status).toBe(401)
    const refused = await login({ login: user.login, password: PASSWORD }, freshAddress())
    expect(refused.headers['Retry-After']).toBe('900')
  })

  it('resets after a success: the next failures are free again', async () => {
    const user = await newUser()
    for (let i = 0; i < 4; i++) await login({ login: user.login, password: `wrong-${i}-password` }, freshAddress())
    expect((await login({ login: user.login, password: PASSWORD }, freshAddress())).status).toBe(200)
    for (let i = 0; i < 4; i++) expect((await login({ login: user.login, password: `again-${i}-wrong` }, freshAddress())).status).toBe(401)
    expect((await login({ login: user.login, password: PASSWORD }, freshAddress())).status).toBe(200)
  })

  it('starts over after 30 quiet minutes, counted from the end of the last wait', async () => {
    const user = await newUser()
    for (let i = 0; i < 5; i++) await login({ login: user.login, password: `wrong-${i}-password` }, freshAddress())
    expect((await login({ login: user.login, password: PASSWORD }, freshAddress())).status).toBe(429)
    await app.sql`
      update attune.throttle set touched = now() - interval '32 minutes', blocked_until = now() - interval '31 minutes'
      where key = ${app.throttleKeys.login(user.login)}`
    expect((await login({ login: user.login, password: PASSWORD }, freshAddress())).status).toBe(200)
  })

  it('answers an unknown login exactly as a known one: the same 401s, the same 429, the same Retry-After', async () => {
    const known = await newUser()
    const unknown = uniqueLogin('nobody')
    const answers = async (name: string) => {
      const seen: unknown[] = []
      for (let i = 0; i < 7; i++) {
        const res = await login({ login: name, password: `guess-number-${i}` }, freshAddress())
        seen.push({ status: res.status, body: res.body, retryAfter: res.headers['Retry-After'] ?? null })
      }
      return seen
    }
    expect(await answers(unknown)).toEqual(await answers(known.login))
  })
})

describe('login throttling per source address', () => {
  it('blocks an address for 10 minutes after 20 failures in 10 minutes, whatever logins it tries', async () => {
    const address = freshAddress()
    for (let i = 0; i < 20; i++)
      expect((await login({ login: uniqueLogin('spray'), password: 'spray-password-1' }, address)).status).toBe(401)
    const user = await newUser()
    const { result, calls } = await counted(() => login({ login: user.login, password: PASSWORD }, address))
    expect(result).toMatchObject({ status: 429, body: THROTTLED })
    expect(result.headers['Retry-After']).toBe('600')
    expect(calls).toBe(0)
    // Another address is not concerned, and the account itself was never counted against.
    expect((await login({ login: user.login, password: PASSWORD }, freshAddress())).status).toBe(200)
  })

  it('counts an IPv6 client by its /64', async () => {
    const pidGroup = (process.pid & 0xffff).toString(16)
    for (let i = 0; i < 20; i++) {
      await login({ login: uniqueLogin('v6'), password: 'spray-password-1' }, `2001:db8:${pidGroup}:${nextAddress + 1}::${i + 1}`)
    }
    const res = await login({ login: uniqueLogin('v6'), password: 'spray-password-1' }, `2001:db8:${pidGroup}:${nextAddress + 1}:ffff::9`)
    nextAddress += 1
    expect(res.status).toBe(429)
  })

  it('does not count successful logins against the address', async () => {
    const address = freshAddress()
    const user = await newUser()
    for (let i = 0; i < 25; i++) expect((await login({ login: user.login, password: PASSWORD }, address)).status).toBe(200)
  })
})

describe('registration throttling', () => {
  it('allows 10 registrations per address per hour, then answers 429 before any Argon2', async () => {
    const address = freshAddress()
    for (let i = 0; i < 10; i++) expect((await register({ login: uniqueLogin('reg'), password: PASSWORD }, address)).status).toBe(200)
    const { result, calls } = await counted(() => register({ login: uniqueLogin('reg'), password: PASSWORD }, address))
    expect(result).toMatchObject({ status: 429, body: THROTTLED })
    expect(Number(result.headers['Retry-After'])).toBeGreaterThan(3500)
    expect(calls).toBe(0)
  })
})

describe('refresh with junk tokens', () => {
  it('counts junk against the address and answers 429 once it is blocked', async () => {
    const address = freshAddress()
    for (let i = 0; i < 20; i++)
      expect((await send(routes.refresh, '/auth/refresh', { refresh_token: `junk.${i}.token` }, { sourceIp: address })).status).toBe(401)
    expect(await send(routes.refresh, '/auth/refresh', { refresh_token: 'junk.x.token' }, { sourceIp: address })).toMatchObject({
      status: 429,
      body: THROTTLED,
    })
  })
})

describe('change-password guessing with a stolen access token', () => {
  it('ends the session on the 5th wrong current password in a row, and throttles the identity', async () => {
    const user = await newUser()
    const { sessionId } = await app.tokens.verifyAccessToken(user.tokens.access_token)
    const authorizer = { principalId: String(user.identityId), identityId: user.identityId, login: user.login, sessionId }
    const change = (current_password: string) =>
      send(routes.changePassword, '/auth/change-password', { current_password, new_password: 'a-new-sound-password-7' }, { authorizer })
    for (let i = 0; i < 4; i++)
      expect(await change(`guess-${i}-password`)).toMatchObject({ status: 401, body: { reason: 'invalid_current_password' } })
    expect(await change('guess-4-password')).toMatchObject({ status: 401, body: { reason: 'session_ended' } })
    const [row] = await app.sql`select revoked_reason from attune.session where id = ${sessionId}`
    expect(row?.['revoked_reason']).toBe('password_guessing')
    // The identity waits now, whichever session asks: even the right password is refused until the wait ends.
    const { result, calls } = await counted(() => change(PASSWORD))
    expect(result.status).toBe(429)
    expect(calls).toBe(0)
  })
})

describe('the password blocklist', () => {
  const weak = {
    'one of the most common passwords': ['password', 'common_password'],
    'a common password in capitals': ['PASSWORD1', 'common_password'],
    'eight digits': ['12345678', 'common_password'],
    'eight spaces': ['        ', 'repeated_character'],
    'one character repeated': ['zzzzzzzzzzzz', 'repeated_character'],
  } as const

  it('refuses common, repeated-character and login-containing passwords at registration with 400 WEAK_PASSWORD and a reason', async () => {
    for (const [why, [password, reason]] of Object.entries(weak)) {
      const res = await register({ login: uniqueLogin('weak'), password }, freshAddress())
      expect(res, why).toMatchObject({ status: 400, body: { code: 'WEAK_PASSWORD', reason } })
      expect(res.body.error.length).toBeGreaterThan(10)
    }
    const name = `alexander${Math.random().toString(36).slice(2, 6)}`
    expect(await register({ login: name, password: `my-${name.toUpperCase()}-pass` }, freshAddress())).toMatchObject({
      status: 400,
      body: { code: 'WEAK_PASSWORD', reason: 'password_contains_login' },
    })
    expect(
      await register({ login: uniqueLogin('dn'), password: 'ilove-marguerite-99', display_name: 'Marguerite' }, freshAddress()),
    ).toMatchObject({
      status: 400,
      body: { code: 'WEAK_PASSWORD', reason: 'password_contains_display_name' },
    })
  })

  it('refuses a weak new password at change-password, and keeps the old one', async () => {
    const user = await newUser()
    const { sessionId } = await app.tokens.verifyAccessToken(user.tokens.access_token)
    const authorizer = { principalId: String(user.identityId), identityId: user.identityId, login: user.login, sessionId }
    const res = await send(
      routes.changePassword,
      '/auth/change-password',
      { current_password: PASSWORD, new_password: 'iloveyou' },
      { authorizer },
    )
    expect(res).toMatchObject({ status: 400, body: { code: 'WEAK_PASSWORD', reason: 'common_password' } })
    expect((await login({ login: user.login, password: PASSWORD }, freshAddress())).status).toBe(200)
  })

  it('holds the 100,000 most common passwords of 8 characters or more', async () => {
    const [row] = await getApp().sql`select count(*)::int as n from attune.common_password`
    expect(row?.['n']).toBe(100_000)
  })
})

describe('the cleanup', () => {
  it('deletes throttle counters untouched for a day, keeping those still waiting', async () => {
    const { handler } = await import('../../../functions/maintenance.js')
    const idle = app.throttleKeys.login(uniqueLogin('idle'))
    const waiting = app.throttleKeys.login(uniqueLogin('waiting'))
    const fresh = app.throttleKeys.login(uniqueLogin('fresh'))
    await app.sql`
      insert into attune.throttle (key, failures, window_start, blocked_until, touched) values
        (${idle}, 3, now() - interval '2 days', null, now() - interval '25 hours'),
        (${waiting}, 50, now() - interval '2 days', now() + interval '5 minutes', now() - interval '25 hours'),
        (${fresh}, 1, now(), null, now())`
    const { throttleCountersDeleted } = await handler({}, lambdaContext())
    expect(throttleCountersDeleted).toBeGreaterThanOrEqual(1)
    const left = await app.sql`select key from attune.throttle where key in ${app.sql([idle, waiting, fresh])}`
    expect(left.map((row) => Buffer.from(row['key']).toString('hex')).sort()).toEqual(
      [waiting, fresh].map((key) => Buffer.from(key).toString('hex')).sort(),
    )
  })
})
