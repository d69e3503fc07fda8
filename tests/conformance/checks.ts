/**
 * The conformance suite: an ordered list of named black-box checks, over HTTP only, against any deployment of
 * Attune Auth (`npm run conformance -- --base-url https://<api>/<stage>`, infra/conformance.ts; or `npm start`,
 * tests/e2e/conformance.test.ts). The checks share one context and run in order: the seed's flow (register →
 * login → me → change-password → refresh), every error shape (API Gateway's Gateway Responses included),
 * refresh rotation and reuse detection, logout reaching access tokens, and, with `--protected-url`, the
 * authorizer in front of another API.
 *
 * What it leaves behind: one account per run, `conformance-<random>-user` (README "The API": there is no
 * endpoint that deletes an account), whose sessions the last check ends (`POST /auth/logout` with
 * `{"scope": "global"}`); a second registration of the same login in other letter case is refused (409) and
 * creates nothing.
 *
 * It stays far below the abuse defences (README "Abuse defence"): 2 registrations per run (the per-address
 * limit is 10 an hour), and 4 deliberate credential failures: one wrong password for its own account (5 are
 * free), one unknown login and one junk refresh token (3 of the 20 failures per address in 10 minutes), and
 * one wrong current password (per identity, 5 free). Every other refusal it provokes (no token, a bad token, a
 * bad body) is answered before any credential is checked and counts against nothing.
 *
 * Tokens and passwords are never printed: failures show bodies with their token and password fields, and
 * anything shaped like a JWT, redacted (tests/conformance/http.ts).
 */
import { randomBytes } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { isDeepStrictEqual } from 'node:util'
import type { Answer, TokenPair } from './http.js'
import { CheckFailure, CheckSkipped, ConformanceClient, ensure, expectRefusal, expectStatus, expectTokenPair, tokenPairIn } from './http.js'

export interface ConformanceOptions {
  /** The API's base URL: `https://<api-id>.execute-api.<region>.amazonaws.com/<stage>`, or `http://localhost:8080`. */
  baseUrl: string
  /** A route of another API behind our authorizer (GET): 200 with our access token, 401 without. */
  protectedUrl?: string | undefined
  /** The stage's JWT_REFRESH_REUSE_GRACE (default 5): how long a retried refresh token gets the same pair. */
  refreshGraceSeconds?: number | undefined
  /** Per request (default 30 s: a cold start with Argon2 takes a few seconds). */
  timeoutMs?: number | undefined
}

/** What the checks share, in the order they fill it in. */
export interface ConformanceContext {
  client: ConformanceClient
  protectedUrl: string | undefined
  refreshGraceSeconds: number
  /** The random part of every name this run creates. */
  runId: string
  login: string
  displayName: string
  /** The account's password now (the new one once change-password succeeded). */
  password: string
  /** What change-password sets. */
  newPassword: string
  /** The wrong password tried once. */
  wrongPassword: string
  /** The account was created by this run (so the clean-up has something to do). */
  registered: boolean
  /** Every token pair this run was given, oldest first (the clean-up checks that each session has ended). */
  pairs: TokenPair[]
  /** The session opened by registration (ended by change-password). */
  registration?: TokenPair
  /** The session opened by the first login, whose password change answers `changed`. */
  login1?: TokenPair
  /** change-password's new pair for login1's session. */
  changed?: TokenPair
  /** When change-password's pair was rotated by /auth/refresh (ms), and the pair it answered. */
  refreshedAt?: number
  refreshed?: TokenPair
  /** The session opened with the new password: used for the other API, then logged out. */
  login2?: TokenPair
  /** Lines to print after the checks (what was left behind). */
  notes: string[]
}

export interface Check {
  name: string
  run(context: ConformanceContext): Promise<void>
}

export const DEFAULT_REFRESH_GRACE_SECONDS = 5
export const DEFAULT_TIMEOUT_MS = 30_000

export function createContext(options: ConformanceOptions): ConformanceContext {
  const client = new ConformanceClient(options.baseUrl, options.timeoutMs ?? DEFAULT_TIMEOUT_MS)
  const runId = randomBytes(5).toString('hex')
  const password = (): string => client.secret(randomBytes(18).toString('base64url'))
  return {
    client,
    protectedUrl: options.protectedUrl,
    refreshGraceSeconds: options.refreshGraceSeconds ?? DEFAULT_REFRESH_GRACE_SECONDS,
    runId,
    login: `conformance-${runId}-user`,
    displayName: `Conformance ${runId}`,
    password: password(),
    newPassword: password(),
    wrongPassword: password(),
    registered: false,
    pairs: [],
    notes: [],
  }
}

/** A value an earlier check provides; if it did not, this check fails without sending anything. */
function need<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new CheckFailure(`not run: needs ${what}, which an earlier check did not provide`)
  return value
}

const bearer = { status: 401, challenge: true } as const

/** `data` of a `200 {"data": {...}}` answer, or a failure describing what came back. */
function dataOf(context: ConformanceContext, answer: Answer, expected: string): Record<string, unknown> {
  const json = answer.json as { data?: unknown } | undefined
  const data = typeof json === 'object' && json !== null && isDeepStrictEqual(Object.keys(json), ['data']) ? json.data : undefined
  if (answer.status !== 200 || typeof data !== 'object' || data === null) {
    throw new CheckFailure(`${answer.request}: not the documented answer`, expected, context.client.show(answer))
  }
  return data as Record<string, unknown>
}

function remember(context: ConformanceContext, pair: TokenPair): TokenPair {
  context.pairs.push(pair)
  return pair
}

export const CHECKS: readonly Check[] = [
  // ---- Error shapes that need no account ----
  {
    name: 'errors: a protected route without a token is 401 token_missing with WWW-Authenticate (Gateway Response UNAUTHORIZED)',
    async run({ client }) {
      for (const [method, path, body] of [
        ['GET', '/auth/me', undefined],
        ['GET', '/auth/sessions', undefined],
        ['POST', '/auth/change-password', { current_password: 'irrelevant', new_password: 'irrelevant-too' }],
        ['POST', '/auth/logout', undefined],
      ] as const) {
        expectRefusal(client, await client.request(method, path, body === undefined ? {} : { body }), {
          ...bearer,
          reason: 'token_missing',
        })
      }
    },
  },
  {
    name: "errors: a malformed bearer token is 401 token_invalid with WWW-Authenticate (the authorizer's Deny, Gateway Response ACCESS_DENIED)",
    async run({ client }) {
      expectRefusal(client, await client.request('GET', '/auth/me', { token: 'not-a-token' }), { ...bearer, reason: 'token_invalid' })
    },
  },
  {
    name: 'errors: an unknown route, or a route with another method, is 404 NOT_FOUND route_not_found (Gateway Response MISSING_AUTHENTICATION_TOKEN)',
    async run({ client, runId }) {
      expectRefusal(client, await client.request('GET', `/conformance-${runId}-no-such-route`), { status: 404, reason: 'route_not_found' })
      expectRefusal(client, await client.request('DELETE', '/auth/login'), { status: 404, reason: 'route_not_found' })
    },
  },
  {
    name: 'errors: a body not sent as application/json is 415 UNSUPPORTED_MEDIA_TYPE',
    async run({ client, login, wrongPassword }) {
      const raw = JSON.stringify({ login, password: wrongPassword })
      expectRefusal(client, await client.request('POST', '/auth/login', { raw, contentType: 'text/plain' }), {
        status: 415,
        reason: 'unsupported_media_type',
      })
    },
  },
  {
    name: 'errors: a body that is not JSON is 400 BAD_REQUEST malformed_body',
    async run({ client }) {
      expectRefusal(client, await client.request('POST', '/auth/login', { raw: '{"login": "conformance", "password": ' }), {
        status: 400,
        reason: 'malformed_body',
      })
    },
  },
  {
    name: 'errors: no body where one is required is 400 BAD_REQUEST body_missing',
    async run({ client }) {
      expectRefusal(client, await client.request('POST', '/auth/login', { contentType: 'application/json' }), {
        status: 400,
        reason: 'body_missing',
      })
    },
  },
  {
    name: 'errors: a missing field is 400 BAD_REQUEST invalid_field, naming it',
    async run({ client, runId }) {
      expectRefusal(client, await client.request('POST', '/auth/register', { body: { login: `conformance-${runId}-no-password` } }), {
        status: 400,
        reason: 'invalid_field',
        message: /\bpassword\b/,
      })
    },
  },
  {
    name: 'errors: a password under 8 characters is 400 BAD_REQUEST invalid_field',
    async run({ client, runId }) {
      expectRefusal(
        client,
        await client.request('POST', '/auth/register', { body: { login: `conformance-${runId}-short`, password: 'short' } }),
        {
          status: 400,
          reason: 'invalid_field',
          message: 'password must be at least 8 characters',
        },
      )
    },
  },
  {
    name: 'errors: a weak password (one character repeated) is 400 WEAK_PASSWORD repeated_character, and creates no account',
    async run({ client, runId }) {
      const body = { login: `conformance-${runId}-weak`, password: 'z'.repeat(12) }
      expectRefusal(client, await client.request('POST', '/auth/register', { body }), { status: 400, reason: 'repeated_character' })
    },
  },
  {
    name: 'errors: a body over 16 KiB is 413 PAYLOAD_TOO_LARGE',
    async run({ client, runId }) {
      const body = { login: `conformance-${runId}-large`, password: 'x'.repeat(17 * 1024) }
      expectRefusal(client, await client.request('POST', '/auth/login', { body }), { status: 413, reason: 'body_too_large', message: /\S/ })
    },
  },

  // ---- The seed's flow: register → login → me → change-password → refresh ----
  {
    name: 'flow: POST /auth/register is 200 with a token pair',
    async run(context) {
      const { client, login, password, displayName } = context
      const answer = await client.request('POST', '/auth/register', { body: { login, password, display_name: displayName } })
      if (answer.status === 200) context.registered = true
      context.registration = remember(context, expectTokenPair(client, answer))
    },
  },
  {
    name: 'flow: registering the same login in other letter case is 409 CONFLICT login_taken',
    async run({ client, login, registered, newPassword }) {
      ensure(registered, 'not run: needs the account, which registration did not create', 'a registered account', 'none')
      const answer = await client.request('POST', '/auth/register', { body: { login: login.toUpperCase(), password: newPassword } })
      expectRefusal(client, answer, { status: 409, reason: 'login_taken' })
    },
  },
  {
    name: 'flow: GET /auth/me with the access token is 200 with the identity {id, login, display_name}',
    async run(context) {
      const { client, login, displayName } = context
      const { access_token } = need(context.registration, "registration's token pair")
      const answer = await client.request('GET', '/auth/me', { token: access_token })
      const expected = `HTTP 200 {"data":{"id":<integer ≥ 1>,"login":${JSON.stringify(login)},"display_name":${JSON.stringify(displayName)},...}}`
      const data = dataOf(context, answer, expected)
      ensure(
        Number.isSafeInteger(data['id']) && (data['id'] as number) >= 1 && data['login'] === login && data['display_name'] === displayName,
        'GET /auth/me: not this identity',
        expected,
        client.show(answer),
      )
    },
  },
  {
    name: 'flow: POST /auth/login is 200 with a token pair',
    async run(context) {
      const { client, login, password } = context
      need(context.registration, 'the registered account')
      context.login1 = remember(
        context,
        expectTokenPair(client, await client.request('POST', '/auth/login', { body: { login, password } })),
      )
    },
  },
  {
    name: 'flow: a wrong password is 401 UNAUTHORIZED invalid_credentials (1 of the 5 free attempts)',
    async run({ client, login, wrongPassword, registered }) {
      ensure(registered, 'not run: needs the account, which registration did not create', 'a registered account', 'none')
      const answer = await client.request('POST', '/auth/login', { body: { login, password: wrongPassword } })
      expectRefusal(client, answer, { status: 401, reason: 'invalid_credentials' })
    },
  },
  {
    name: 'flow: an unknown login gets the same 401 invalid_credentials as a wrong password',
    async run({ client, runId, wrongPassword }) {
      const answer = await client.request('POST', '/auth/login', {
        body: { login: `conformance-${runId}-nobody`, password: wrongPassword },
      })
      expectRefusal(client, answer, { status: 401, reason: 'invalid_credentials' })
    },
  },
  {
    name: 'flow: a refresh token sent as a bearer token is 401 token_invalid with WWW-Authenticate',
    async run(context) {
      const { refresh_token } = need(context.login1, "login's token pair")
      expectRefusal(context.client, await context.client.request('GET', '/auth/me', { token: refresh_token }), {
        ...bearer,
        reason: 'token_invalid',
      })
    },
  },
  {
    name: 'flow: POST /auth/change-password with a wrong current password is 401 invalid_current_password',
    async run(context) {
      const { client, wrongPassword, newPassword } = context
      const { access_token } = need(context.login1, "login's token pair")
      const answer = await client.request('POST', '/auth/change-password', {
        token: access_token,
        body: { current_password: wrongPassword, new_password: newPassword },
      })
      expectRefusal(client, answer, { status: 401, reason: 'invalid_current_password' })
    },
  },
  {
    name: 'flow: POST /auth/change-password is 200 with success, its message and a new token pair',
    async run(context) {
      const { client, password, newPassword } = context
      const { access_token } = need(context.login1, "login's token pair")
      const answer = await client.request('POST', '/auth/change-password', {
        token: access_token,
        body: { current_password: password, new_password: newPassword },
      })
      const expected =
        'HTTP 200 {"data":{"success":true,"message":"Password changed successfully","access_token":<string>,"refresh_token":<string>,"token_type":"Bearer","expires_in":<integer>}}'
      const data = dataOf(context, answer, expected)
      if (answer.status === 200) context.password = newPassword
      const pair = tokenPairIn(data)
      ensure(
        data['success'] === true && data['message'] === 'Password changed successfully' && pair !== undefined,
        'POST /auth/change-password: not the documented answer',
        expected,
        client.show(answer),
      )
      context.changed = remember(context, {
        access_token: pair.access_token,
        refresh_token: pair.refresh_token,
        token_type: pair.token_type,
        expires_in: pair.expires_in,
      })
    },
  },
  {
    name: "flow: change-password ends every other session: registration's tokens are refused (401 session_ended), its own new ones work",
    async run(context) {
      const { client } = context
      const registration = need(context.registration, "registration's token pair")
      const changed = need(context.changed, "change-password's token pair")
      expectRefusal(client, await client.request('GET', '/auth/me', { token: registration.access_token }), {
        ...bearer,
        reason: 'session_ended',
      })
      expectRefusal(client, await client.request('POST', '/auth/refresh', { body: { refresh_token: registration.refresh_token } }), {
        status: 401,
        reason: 'refresh_token_invalid',
      })
      expectStatus(
        client,
        await client.request('GET', '/auth/me', { token: changed.access_token }),
        200,
        "change-password's new access token is not accepted",
      )
    },
  },
  {
    name: 'flow: POST /auth/login with the new password is 200 with a token pair',
    async run(context) {
      const { client, login, password } = context
      need(context.changed, 'a changed password')
      context.login2 = remember(
        context,
        expectTokenPair(client, await client.request('POST', '/auth/login', { body: { login, password } })),
      )
    },
  },

  // ---- Refresh: rotation, grace, reuse detection ----
  {
    name: 'refresh: POST /auth/refresh is 200 with a new pair, both tokens rotated, and the new access token works',
    async run(context) {
      const { client } = context
      const changed = need(context.changed, "change-password's token pair")
      const answer = await client.request('POST', '/auth/refresh', { body: { refresh_token: changed.refresh_token } })
      context.refreshedAt = Date.now()
      const refreshed = remember(context, expectTokenPair(client, answer))
      context.refreshed = refreshed
      ensure(
        refreshed.refresh_token !== changed.refresh_token && refreshed.access_token !== changed.access_token,
        'POST /auth/refresh: the pair was not rotated',
        'a new access token and a new refresh token',
        `${refreshed.access_token === changed.access_token ? 'the same' : 'a new'} access token, ${refreshed.refresh_token === changed.refresh_token ? 'the same' : 'a new'} refresh token`,
      )
      expectStatus(
        client,
        await client.request('GET', '/auth/me', { token: refreshed.access_token }),
        200,
        'the refreshed access token is not accepted',
      )
    },
  },
  {
    name: 'refresh: the same refresh token retried within the grace window gets the same pair again (JWT_REFRESH_REUSE_GRACE)',
    async run(context) {
      const { client, refreshGraceSeconds } = context
      if (refreshGraceSeconds <= 0) throw new CheckSkipped('the grace window is 0 s (--refresh-grace 0)')
      const changed = need(context.changed, "change-password's token pair")
      const refreshed = need(context.refreshed, "refresh's token pair")
      const answer = await client.request('POST', '/auth/refresh', { body: { refresh_token: changed.refresh_token } })
      const elapsed = Date.now() - (context.refreshedAt ?? 0)
      const again = expectTokenPair(client, answer)
      ensure(
        again.access_token === refreshed.access_token && again.refresh_token === refreshed.refresh_token,
        `POST /auth/refresh again ${elapsed} ms after the rotation: not the same pair`,
        'the very same access and refresh token',
        `${again.access_token === refreshed.access_token ? 'the same' : 'another'} access token, ${again.refresh_token === refreshed.refresh_token ? 'the same' : 'another'} refresh token`,
      )
    },
  },
  {
    name: 'refresh: a used refresh token replayed after the grace window is 401 REFRESH_TOKEN_REUSED refresh_token_reused',
    async run(context) {
      const { client, refreshGraceSeconds } = context
      const changed = need(context.changed, "change-password's token pair")
      const refreshedAt = need(context.refreshedAt, 'a rotation by /auth/refresh')
      need(context.refreshed, "refresh's token pair")
      const wait = refreshedAt + (refreshGraceSeconds + 1) * 1000 - Date.now()
      if (wait > 0) await sleep(wait)
      const answer = await client.request('POST', '/auth/refresh', { body: { refresh_token: changed.refresh_token } })
      expectRefusal(client, answer, { status: 401, reason: 'refresh_token_reused' })
    },
  },
  {
    name: 'refresh: after a replay the session is revoked: its access tokens are 401 session_ended, its newest refresh token 401',
    async run(context) {
      const { client } = context
      const changed = need(context.changed, "change-password's token pair")
      const refreshed = need(context.refreshed, "refresh's token pair")
      for (const token of [refreshed.access_token, changed.access_token]) {
        expectRefusal(client, await client.request('GET', '/auth/me', { token }), { ...bearer, reason: 'session_ended' })
      }
      expectRefusal(client, await client.request('POST', '/auth/refresh', { body: { refresh_token: refreshed.refresh_token } }), {
        status: 401,
        reason: 'refresh_token_invalid',
      })
    },
  },
  {
    name: 'refresh: a refresh token that is not one of ours is 401 refresh_token_invalid',
    async run({ client, runId }) {
      const answer = await client.request('POST', '/auth/refresh', { body: { refresh_token: `conformance-${runId}-not-a-refresh-token` } })
      expectRefusal(client, answer, { status: 401, reason: 'refresh_token_invalid' })
    },
  },

  // ---- Another API behind the authorizer ----
  {
    name: 'authorizer: the other API (--protected-url) answers 200 to our access token',
    async run(context) {
      const { client, protectedUrl } = context
      if (!protectedUrl) throw new CheckSkipped('no --protected-url given')
      const { access_token } = need(context.login2, 'a session with the new password')
      expectStatus(
        client,
        await client.request('GET', '', { url: protectedUrl, token: access_token }),
        200,
        'not 200 with our access token',
      )
    },
  },
  {
    name: 'authorizer: the other API (--protected-url) answers 401 without a token',
    async run({ client, protectedUrl }) {
      if (!protectedUrl) throw new CheckSkipped('no --protected-url given')
      expectStatus(client, await client.request('GET', '', { url: protectedUrl }), 401, 'not 401 without a token')
    },
  },

  // ---- Logout ----
  {
    name: 'logout: POST /auth/logout is 200 {success: true, sessions_ended: 1}',
    async run(context) {
      const { client } = context
      const { access_token } = need(context.login2, 'a session with the new password')
      const answer = await client.request('POST', '/auth/logout', { token: access_token })
      const expected = 'HTTP 200 {"data":{"success":true,"sessions_ended":1}}'
      ensure(
        isDeepStrictEqual([answer.status, answer.json], [200, { data: { success: true, sessions_ended: 1 } }]),
        'POST /auth/logout',
        expected,
        client.show(answer),
      )
    },
  },
  {
    name: 'logout: reaches access tokens: GET /auth/me with the logged-out access token is 401 session_ended',
    async run(context) {
      const { access_token } = need(context.login2, 'a logged-out session')
      expectRefusal(context.client, await context.client.request('GET', '/auth/me', { token: access_token }), {
        ...bearer,
        reason: 'session_ended',
      })
    },
  },
  {
    name: 'logout: reaches refresh tokens: the logged-out refresh token is 401 refresh_token_invalid',
    async run(context) {
      const { refresh_token } = need(context.login2, 'a logged-out session')
      expectRefusal(context.client, await context.client.request('POST', '/auth/refresh', { body: { refresh_token } }), {
        status: 401,
        reason: 'refresh_token_invalid',
      })
    },
  },

  // ---- Clean-up: always runs ----
  {
    name: 'clean-up: POST /auth/logout {"scope": "global"} ends every session this run opened',
    async run(context) {
      const { client, login, password, registered } = context
      if (!registered) throw new CheckSkipped('this run created no account')
      context.notes.push(
        `left behind: the account ${login} (there is no endpoint that deletes an account); every session of it is ended by the clean-up`,
      )
      // A session of ours that is still open, newest first; else a new one (then ended with the rest).
      let ended = false
      for (const pair of [...context.pairs].reverse()) {
        const answer = await client.request('POST', '/auth/logout', { token: pair.access_token, body: { scope: 'global' } })
        if (answer.status === 200) {
          ended = true
          break
        }
      }
      if (!ended) {
        const pair = remember(context, expectTokenPair(client, await client.request('POST', '/auth/login', { body: { login, password } })))
        const answer = await client.request('POST', '/auth/logout', { token: pair.access_token, body: { scope: 'global' } })
        const data = dataOf(context, answer, 'HTTP 200 {"data":{"success":true,"sessions_ended":<integer ≥ 1>}}')
        ensure(
          data['success'] === true && Number.isInteger(data['sessions_ended']) && (data['sessions_ended'] as number) >= 1,
          'POST /auth/logout {"scope":"global"}',
          'HTTP 200 {"data":{"success":true,"sessions_ended":<integer ≥ 1>}}',
          client.show(answer),
        )
      }
      for (const [index, pair] of context.pairs.entries()) {
        const answer = await client.request('GET', '/auth/me', { token: pair.access_token })
        ensure(answer.status === 401, `session ${index + 1} of ${context.pairs.length} is still open`, 'HTTP 401', client.show(answer))
      }
    },
  },
]
