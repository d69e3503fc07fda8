/**
 * `npm start` as a user runs it, over real HTTP: serverless-offline with the esbuild bundles, our
 * authorizer in front of the protected routes, and the README's cURL flow.
 * The server gets a free port and the test run's database (tests/support/global-setup.ts).
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto'
import type { Reason } from '@attune-auth/client'
import { BEARER_CHALLENGE, REASONS } from '@attune-auth/client'
import postgres from 'postgres'
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest'
import { runAdmin } from '../../infra/admin.js'
import { runConformance } from '../../infra/conformance.js'
import { LOCAL_OIDC_USER } from '../../infra/local/oidc-provider.js'
import { freePort } from '../../infra/local/ports.js'
import { loadConfig } from '../../lib/config.js'
import { createTokenService, newIdentityClaims } from '../../lib/tokens/service.js'
import { CHECKS } from '../conformance/checks.js'
import type { LocalServer } from '../support/local-server.js'
import { startLocalServer, stopLocalServer } from '../support/local-server.js'
import type { ReceivedMail } from '../support/local-ses.js'
import { tokenIn } from '../support/local-ses.js'
import { signInAtProvider } from '../support/oidc-browser.js'
import { referenceStep, referenceTotp } from '../support/totp-reference.js'

/** Anything shaped like a JWT: the conformance suite's output never holds one. */
const JWT_LIKE = /[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/
const JWT_SECRET = process.env['JWT_SECRET'] ?? 'test-secret-that-is-at-least-32-bytes-long!'

let server: LocalServer | undefined
let baseUrl = ''
/** npm start's local SES (its web page and `/store`). */
let mailboxUrl = ''

beforeAll(async () => {
  const sesPort = await freePort()
  server = await startLocalServer({ JWT_SECRET, SES_PORT: String(sesPort) })
  baseUrl = server.url
  mailboxUrl = `http://127.0.0.1:${sesPort}`
}, 90_000)

// The server's output is kept quiet, and shown when a test fails.
beforeEach(({ onTestFailed }) => {
  const output = server?.output ?? []
  const from = output.length
  onTestFailed(() => console.error(`npm start's output during this test:\n${output.slice(from).join('')}`))
})

afterAll(() => stopLocalServer(server), 20_000)

interface Answer<T = any> {
  status: number
  headers: Headers
  body: T
}

async function request<T = any>(
  method: string,
  path: string,
  options: { body?: unknown; token?: string; raw?: string } = {},
): Promise<Answer<T>> {
  const headers: Record<string, string> = {}
  if (options.body !== undefined || options.raw !== undefined) headers['Content-Type'] = 'application/json'
  if (options.token !== undefined) headers['Authorization'] = `Bearer ${options.token}`
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    headers,
    ...(options.raw !== undefined ? { body: options.raw } : options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
  })
  const text = await response.text()
  let body: unknown
  try {
    body = JSON.parse(text)
  } catch {
    throw new Error(`${method} ${path} answered ${response.status} with a body that is not JSON: ${text}`)
  }
  return { status: response.status, headers: response.headers, body: body as T }
}

const expectTokenPair = (answer: Answer): void => {
  expect(answer.status).toBe(200)
  expect(answer.body).toEqual({
    data: { access_token: expect.any(String), refresh_token: expect.any(String), token_type: 'Bearer', expires_in: 3600 },
  })
}

/** The body of a refusal for `reason`: the documented message and code, and the reason. */
const refusal = (reason: Reason) => ({ error: REASONS[reason].message, code: REASONS[reason].code, reason })

const expectBearerRefusal = (answer: Answer, reason: Reason): void => {
  expect({ status: answer.status, body: answer.body }).toEqual({ status: 401, body: refusal(reason) })
  expect(answer.headers.get('www-authenticate')).toBe(BEARER_CHALLENGE)
  expect(answer.headers.get('content-type')).toMatch(/^application\/json/)
  expect(answer.headers.get('cache-control')).toBe('no-store')
}

describe("npm start: the README's cURL flow", () => {
  const login = `e2e-${Date.now().toString(36)}-${randomUUID().slice(0, 8)}`
  let accessToken = ''
  let refreshToken = ''
  let identityId = 0

  it('registers a new user and answers a Bearer token pair', async () => {
    const answer = await request('POST', '/auth/register', { body: { login, password: 'testpass123', display_name: 'Test User' } })
    expectTokenPair(answer)
    expect(answer.headers.get('cache-control')).toBe('no-store')
  })

  it('logs the user in with that password', async () => {
    const answer = await request('POST', '/auth/login', { body: { login, password: 'testpass123' } })
    expectTokenPair(answer)
    ;({ access_token: accessToken, refresh_token: refreshToken } = answer.body.data)
  })

  it('answers the current user for the access token, through the authorizer', async () => {
    const answer = await request('GET', '/auth/me', { token: accessToken })
    expect(answer.status).toBe(200)
    expect(answer.body).toEqual({
      data: { id: expect.any(Number), login, display_name: 'Test User', email: null, email_verified: false, roles: [], permissions: [] },
    })
    identityId = answer.body.data.id
  })

  it('changes the password when the current one is given', async () => {
    const answer = await request('POST', '/auth/change-password', {
      token: accessToken,
      body: { current_password: 'testpass123', new_password: 'newpass456' },
    })
    expect(answer).toMatchObject({ status: 200, body: { data: { success: true, message: 'Password changed successfully' } } })
  })

  it('then refuses the old password and accepts the new one', async () => {
    const old = await request('POST', '/auth/login', { body: { login, password: 'testpass123' } })
    expect({ status: old.status, body: old.body }).toEqual({
      status: 401,
      body: refusal('invalid_credentials'),
    })
    const answer = await request('POST', '/auth/login', { body: { login, password: 'newpass456' } })
    expectTokenPair(answer)
    ;({ access_token: accessToken, refresh_token: refreshToken } = answer.body.data)
  })

  it('exchanges the refresh token for a new token pair that works', async () => {
    const answer = await request('POST', '/auth/refresh', { body: { refresh_token: refreshToken } })
    expectTokenPair(answer)
    const me = await request('GET', '/auth/me', { token: answer.body.data.access_token })
    expect(me.body).toEqual({
      data: { id: identityId, login, display_name: 'Test User', email: null, email_verified: false, roles: [], permissions: [] },
    })
  })

  it('ends the session on logout, after which the authorizer refuses its access token', async () => {
    const { body } = await request('POST', '/auth/login', { body: { login, password: 'newpass456' } })
    const token = body.data.access_token as string
    const answer = await request('POST', '/auth/logout', { token })
    expect(answer).toMatchObject({ status: 200, body: { data: { success: true, sessions_ended: 1 } } })
    expectBearerRefusal(await request('GET', '/auth/me', { token }), 'session_ended')
  })

  it('revokes the whole session when a used refresh token is replayed, over HTTP', async () => {
    const { body } = await request('POST', '/auth/login', { body: { login, password: 'newpass456' } })
    const first = body.data as { access_token: string; refresh_token: string }
    const second = await request('POST', '/auth/refresh', { body: { refresh_token: first.refresh_token } })
    const third = await request('POST', '/auth/refresh', { body: { refresh_token: second.body.data.refresh_token } })
    expectTokenPair(third)
    const replay = await request('POST', '/auth/refresh', { body: { refresh_token: first.refresh_token } })
    expect({ status: replay.status, body: replay.body }).toEqual({
      status: 401,
      body: refusal('refresh_token_reused'),
    })
    expectBearerRefusal(await request('GET', '/auth/me', { token: third.body.data.access_token }), 'session_ended')
  })

  it('ends the other sessions when the password changes, keeping the current one', async () => {
    const a = (await request('POST', '/auth/login', { body: { login, password: 'newpass456' } })).body.data
    const b = (await request('POST', '/auth/login', { body: { login, password: 'newpass456' } })).body.data
    const change = await request('POST', '/auth/change-password', {
      token: a.access_token,
      body: { current_password: 'newpass456', new_password: 'newpass789' },
    })
    expect(change.status).toBe(200)
    expect((await request('GET', '/auth/me', { token: a.access_token })).status).toBe(200)
    expectBearerRefusal(await request('GET', '/auth/me', { token: b.access_token }), 'session_ended')
  })

  it("shows the user their own security events over HTTP, page by page, and never another user's", async () => {
    const current = (await request('POST', '/auth/login', { body: { login, password: 'newpass789' } })).body.data.access_token
    const first = await request('GET', '/auth/security-events?limit=100', { token: current })
    expect(first.status).toBe(200)
    const events = first.body.data.events as Array<{ id: number; type: string; reason: string | null; current_session: boolean }>
    expect(new Set(events.map((e) => e.type))).toEqual(
      new Set(['identity.registered', 'session.created', 'password.changed', 'session.ended', 'refresh.reuse_detected']),
    )
    expect(new Set(events.filter((e) => e.type === 'session.ended').map((e) => e.reason))).toEqual(
      new Set(['logout', 'password_changed', 'refresh_token_reused']),
    )
    expect(events[0]).toMatchObject({ type: 'session.created', current_session: true })
    // Page by page with next_cursor: the same events, in the same order.
    const paged: number[] = []
    let cursor: string | null = null
    do {
      const page: Answer = await request('GET', `/auth/security-events?limit=4${cursor ? `&cursor=${cursor}` : ''}`, { token: current })
      paged.push(...page.body.data.events.map((e: { id: number }) => e.id))
      cursor = page.body.data.next_cursor
    } while (cursor)
    expect(paged).toEqual(events.map((e) => e.id))

    const stranger = await request('POST', '/auth/register', { body: { login: `${login}-stranger`, password: 'strangerpass123' } })
    const theirs = await request('GET', '/auth/security-events', { token: stranger.body.data.access_token })
    expect(theirs.body.data.events.map((e: { type: string }) => e.type).sort()).toEqual(['identity.registered', 'session.created'])
    expect(theirs.body.data.events.filter((e: { id: number }) => paged.includes(e.id))).toEqual([])
    expectBearerRefusal(await request('GET', '/auth/security-events'), 'token_missing')
  })

  it('answers 409 when the login is already taken', async () => {
    const answer = await request('POST', '/auth/register', { body: { login, password: 'anotherpass123' } })
    expect({ status: answer.status, body: answer.body }).toEqual({ status: 409, body: refusal('login_taken') })
  })

  describe("refusals on a protected route, as API Gateway's Gateway Responses answer them", () => {
    it('answers 401 "Missing authentication token" with a Bearer challenge when there is no token', async () => {
      expectBearerRefusal(await request('GET', '/auth/me'), 'token_missing')
      expectBearerRefusal(
        await request('POST', '/auth/change-password', { body: { current_password: 'x', new_password: 'newpass789' } }),
        'token_missing',
      )
    })

    it('answers 401 "Invalid authentication token" for a garbage token', async () => {
      expectBearerRefusal(await request('GET', '/auth/me', { token: 'not.a.jwt' }), 'token_invalid')
    })

    it('answers 401 "Invalid authentication token" for a refresh token used as an access token', async () => {
      expectBearerRefusal(await request('GET', '/auth/me', { token: refreshToken }), 'token_invalid')
    })

    it('answers 401 "Authentication token expired" for an expired access token', async () => {
      const config = loadConfig({ ...process.env, JWT_SECRET })
      const twoHoursAgo = Date.now() - 2 * 3600_000
      const tokens = createTokenService({ ...config.jwt, now: () => twoHoursAgo })
      const { access_token } = await tokens.issuePair(
        { identityId, sessionId: randomUUID() },
        tokens.newRefreshTokenId(),
        newIdentityClaims(0),
      )
      expectBearerRefusal(await request('GET', '/auth/me', { token: access_token }), 'token_expired')
    })
  })

  describe('abuse defence, answered by the handlers as on AWS', () => {
    it('answers the attempt after 5 wrong passwords 429 with Retry-After, the right password included, until the wait ends', async () => {
      const name = `${login}-throttled`
      expectTokenPair(await request('POST', '/auth/register', { body: { login: name, password: 'e2e-throttle-pass-1' } }))
      for (let i = 0; i < 5; i++) {
        const wrong = await request('POST', '/auth/login', { body: { login: name, password: `wrong-guess-${i}` } })
        expect({ status: wrong.status, body: wrong.body }).toEqual({ status: 401, body: refusal('invalid_credentials') })
      }
      const throttled = await request('POST', '/auth/login', { body: { login: name, password: 'e2e-throttle-pass-1' } })
      expect({ status: throttled.status, body: throttled.body }).toEqual({ status: 429, body: refusal('too_many_attempts') })
      expect(throttled.headers.get('retry-after')).toBe('1')
      expect(throttled.headers.get('cache-control')).toBe('no-store')
      await new Promise((resolve) => setTimeout(resolve, 1_200))
      expectTokenPair(await request('POST', '/auth/login', { body: { login: name, password: 'e2e-throttle-pass-1' } }))
    })

    it('refuses a common password at registration with 400 WEAK_PASSWORD and creates no account', async () => {
      const name = `${login}-weak`
      const weak = await request('POST', '/auth/register', { body: { login: name, password: 'password1' } })
      expect({ status: weak.status, body: weak.body }).toEqual({ status: 400, body: refusal('common_password') })
      const attempt = await request('POST', '/auth/login', { body: { login: name, password: 'password1' } })
      expect({ status: attempt.status, body: attempt.body }).toEqual({ status: 401, body: refusal('invalid_credentials') })
    })
  })

  describe('invalid requests', () => {
    it('answers 400 for a body that is not JSON', async () => {
      const answer = await request('POST', '/auth/login', { raw: '{"login": "testuser", "password": ' })
      expect(answer).toMatchObject({
        status: 400,
        body: { error: 'Request body is not valid JSON', code: 'BAD_REQUEST', reason: 'malformed_body' },
      })
    })

    it('answers 400 naming a missing field', async () => {
      const answer = await request('POST', '/auth/register', { body: { login: `${login}-2` } })
      expect(answer).toMatchObject({ status: 400, body: { code: 'BAD_REQUEST' } })
      expect(answer.body.error).toMatch(/password/)
    })

    it('answers 400 for a password shorter than 8 characters', async () => {
      const answer = await request('POST', '/auth/register', { body: { login: `${login}-3`, password: 'short' } })
      expect(answer).toMatchObject({
        status: 400,
        body: { error: 'password must be at least 8 characters', code: 'BAD_REQUEST', reason: 'invalid_field' },
      })
    })
  })
})

/** Waits until the local SES has a mail to `to` whose subject matches (the mailer runs right after the request). */
async function mailTo(to: string, subject: RegExp, timeoutMs = 20_000): Promise<ReceivedMail> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const { emails } = (await (await fetch(`${mailboxUrl}/store`)).json()) as { emails: ReceivedMail[] }
    const mail = emails.filter((m) => m.destination.to.includes(to) && subject.test(m.subject)).at(-1)
    if (mail) return mail
    if (Date.now() > deadline)
      throw new Error(`no mail "${subject}" to ${to} in ${timeoutMs} ms; the mailbox has: ${emails.map((m) => m.subject).join(', ')}`)
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
}

describe('npm start: two-factor sign-in, over HTTP', () => {
  it('enrols TOTP, activates it, then signs in with the password and a code, and the authorizer sees aal2', async () => {
    const login = `e2e-mfa-${randomUUID().slice(0, 8)}`
    const registered = await request('POST', '/auth/register', { body: { login, password: 'testpass123' } })
    const enrolment = await request('POST', '/auth/mfa/totp', { token: registered.body.data.access_token })
    expect(enrolment.status).toBe(201)
    const { factor_id, secret } = enrolment.body.data
    // The server's clock is the real one: start well inside a step, activate with the previous step's code
    // (accepted, and spent), and sign in with the current one (a later step, so never a replay).
    const intoStep = Date.now() % 30_000
    if (intoStep > 25_000) await new Promise((resolve) => setTimeout(resolve, 30_000 - intoStep + 100))
    const step = referenceStep(Date.now())
    const activated = await request('POST', `/auth/mfa/totp/${factor_id}/activate`, {
      token: registered.body.data.access_token,
      body: { code: referenceTotp(secret, step - 1) },
    })
    expect(activated.status).toBe(200)
    expect(activated.body.data.recovery_codes).toHaveLength(10)

    const password = await request('POST', '/auth/login', { body: { login, password: 'testpass123' } })
    expect(password.body.data).toMatchObject({ mfa_required: true, methods: ['totp', 'recovery_code'] })
    expect(password.body.data).not.toHaveProperty('access_token')
    const verified = await request('POST', '/auth/mfa/verify', {
      body: { mfa_token: password.body.data.mfa_token, code: referenceTotp(secret, step) },
    })
    expectTokenPair(verified)
    const me = await request('GET', '/auth/me', { token: verified.body.data.access_token })
    expect(me.status).toBe(200)
    expect((await request('GET', '/auth/mfa', { token: verified.body.data.access_token })).body.data).toMatchObject({
      enabled: true,
      recovery_codes_left: 10,
    })
    // The same code again, with a new challenge: refused.
    const again = await request('POST', '/auth/login', { body: { login, password: 'testpass123' } })
    const replay = await request('POST', '/auth/mfa/verify', {
      body: { mfa_token: again.body.data.mfa_token, code: referenceTotp(secret, step) },
    })
    expect({ status: replay.status, body: replay.body }).toEqual({ status: 401, body: refusal('mfa_code_invalid') })
  }, 60_000)
})

describe('npm start: an administrator suspends an account, over HTTP', () => {
  it('ends its session at the authorizer, refuses its password, and lets it in again once lifted', async () => {
    const suffix = randomUUID().slice(0, 8)
    const [adminLogin, login] = [`e2e-admin-${suffix}`, `e2e-suspended-${suffix}`]
    const administrator = await request('POST', '/auth/register', { body: { login: adminLogin, password: 'testpass123' } })
    const sql = postgres(inject('databaseUrl'), { max: 1, onnotice: () => {} })
    try {
      expect(await runAdmin(['grant-role', adminLogin, 'admin'], sql)).toEqual([`granted admin to ${adminLogin}`])
    } finally {
      await sql.end()
    }
    // The suspension routes need a second factor: turn TOTP on; activation answers this session's aal2 pair.
    const enrolment = await request('POST', '/auth/mfa/totp', { token: administrator.body.data.access_token })
    const { factor_id, secret } = enrolment.body.data
    const activated = await request('POST', `/auth/mfa/totp/${factor_id}/activate`, {
      token: administrator.body.data.access_token,
      body: { code: referenceTotp(secret, referenceStep(Date.now())) },
    })
    const token = activated.body.data.access_token
    const person = await request('POST', '/auth/register', { body: { login, password: 'testpass123' } })
    const { id } = (await request('GET', '/auth/me', { token: person.body.data.access_token })).body.data

    const suspended = await request('PUT', `/admin/identities/${id}/suspension`, { token, body: { reason: 'e2e' } })
    expect({ status: suspended.status, body: suspended.body }).toEqual({
      status: 200,
      body: { data: { suspended: true, sessions_ended: 1 } },
    })
    expectBearerRefusal(await request('GET', '/auth/me', { token: person.body.data.access_token }), 'session_ended')
    const refused = await request('POST', '/auth/login', { body: { login, password: 'testpass123' } })
    expect({ status: refused.status, body: refused.body }).toEqual({ status: 401, body: refusal('invalid_credentials') })

    expect((await request('DELETE', `/admin/identities/${id}/suspension`, { token })).body).toEqual({ data: { suspended: false } })
    expectTokenPair(await request('POST', '/auth/login', { body: { login, password: 'testpass123' } }))
  }, 60_000)
})

describe('npm start: sign in with its example OpenID provider, over HTTP', () => {
  it('goes authorize → the provider’s login form → callback → one-time code → tokens, and the authorizer accepts them', async () => {
    const banner = server?.output.join('') ?? ''
    expect(banner).toContain(`sign in as ${LOCAL_OIDC_USER.login} / ${LOCAL_OIDC_USER.password}`)
    const verifier = randomBytes(48).toString('base64url')
    const challenge = createHash('sha256').update(verifier).digest('base64url')
    const query = new URLSearchParams({
      redirect_uri: 'http://localhost:3000/auth/callback',
      code_challenge: challenge,
      code_challenge_method: 'S256',
      state: 'e2e',
    })
    const start = await fetch(`${baseUrl}/auth/oauth/example/authorize?${query}`, { redirect: 'manual' })
    expect(start.status).toBe(302)
    const callback = await signInAtProvider(start.headers.get('location') ?? '', LOCAL_OIDC_USER, `${baseUrl}/auth/oauth/example/callback`)
    const back = await fetch(callback, { redirect: 'manual' })
    expect(back.status).toBe(302)
    const landed = new URL(back.headers.get('location') ?? '')
    expect(`${landed.origin}${landed.pathname}`).toBe('http://localhost:3000/auth/callback')
    expect(landed.searchParams.get('state')).toBe('e2e')
    const tokens = await request('POST', '/auth/oauth/token', { body: { code: landed.searchParams.get('code'), code_verifier: verifier } })
    expect(tokens.status).toBe(200)
    const me = await request('GET', '/auth/me', { token: tokens.body.data.access_token })
    expect(me.status).toBe(200)
    expect(me.body.data).toMatchObject({ display_name: LOCAL_OIDC_USER.name, email: LOCAL_OIDC_USER.email })
    const linked = await request('GET', '/auth/identities', { token: tokens.body.data.access_token })
    expect(linked.body.data).toMatchObject({ has_password: false, identities: [{ provider: 'example', email: LOCAL_OIDC_USER.email }] })
  }, 60_000)
})

describe('npm start: the conformance suite (npm run conformance)', () => {
  it('passes every check, the authorizer of another API included (our own GET /auth/sessions stands in for it)', async () => {
    const lines: string[] = []
    const outcome = await runConformance({
      baseUrl: baseUrl,
      protectedUrl: `${baseUrl}/auth/sessions`,
      print: (line) => lines.push(line),
    })
    const failed = outcome.results.filter((r) => r.status !== 'passed').map((r) => r.name)
    expect(failed, `checks that did not pass:\n${lines.join('\n')}`).toEqual([])
    expect(outcome.results.map((r) => r.name)).toEqual(CHECKS.map((c) => c.name))
    expect(outcome).toMatchObject({ passed: CHECKS.length, failed: 0, skipped: 0 })
    expect(lines.at(-1)).toBe(`${CHECKS.length} passed, 0 failed`)
    expect(lines.filter((l) => l.startsWith('✓ '))).toHaveLength(CHECKS.length)
    expect(lines.join('\n')).toContain('there is no endpoint that deletes an account')
    expect(lines.join('\n')).not.toMatch(JWT_LIKE)
  }, 120_000)
})

describe('npm start: email, verification and password reset, through the local SES', () => {
  const login = `e2e-mail-${Date.now().toString(36)}-${randomUUID().slice(0, 8)}`
  const email = `${login}@example.com`

  it('shows the mailbox page that the banner names', async () => {
    expect(server?.output.join('')).toContain(`mailbox (local SES): http://localhost:${new URL(mailboxUrl).port}`)
    const page = await fetch(mailboxUrl)
    expect(page.status).toBe(200)
    expect(page.headers.get('content-type')).toMatch(/text\/html/)
  })

  it('registers with an email, verifies it from the mail, resets the password from another mail, and ends every old session', async () => {
    const registered = await request('POST', '/auth/register', { body: { login, password: 'first-passphrase-1', email } })
    expectTokenPair(registered)
    const verifyMail = await mailTo(email, /^Confirm your email address/)
    expect(verifyMail.body.text).toMatch(/\/verify-email#token=[A-Za-z0-9_-]{43}/)
    const verified = await request('POST', '/auth/email/verify', { body: { token: tokenIn(verifyMail) } })
    expect(verified).toMatchObject({ status: 200, body: { data: { email, email_verified: true } } })

    const session = (await request('POST', '/auth/login', { body: { login: email, password: 'first-passphrase-1' } })).body.data
    expect((await request('GET', '/auth/me', { token: session.access_token })).body.data).toMatchObject({ email, email_verified: true })

    const forgot = await request('POST', '/auth/password/forgot', { body: { login: email } })
    expect({ status: forgot.status, body: forgot.body }).toEqual({ status: 202, body: { data: { accepted: true } } })
    const resetMail = await mailTo(email, /^Reset your Attune Auth password/)
    const reset = await request('POST', '/auth/password/reset', {
      body: { token: tokenIn(resetMail), new_password: 'second-passphrase-2' },
    })
    expect({ status: reset.status, body: reset.body }).toEqual({ status: 200, body: { data: { success: true } } })
    await mailTo(email, /^Your Attune Auth password was changed/)

    expect((await request('POST', '/auth/login', { body: { login, password: 'first-passphrase-1' } })).status).toBe(401)
    expectTokenPair(await request('POST', '/auth/login', { body: { login, password: 'second-passphrase-2' } }))
    expectBearerRefusal(await request('GET', '/auth/me', { token: registered.body.data.access_token }), 'session_ended')
    expectBearerRefusal(await request('GET', '/auth/me', { token: session.access_token }), 'session_ended')
    expect((await request('POST', '/auth/refresh', { body: { refresh_token: session.refresh_token } })).status).toBe(401)
  })
})
