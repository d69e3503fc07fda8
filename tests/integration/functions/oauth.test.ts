/**
 * Sign in with an OpenID Connect provider through the real handlers (README "Sign in with OpenID Connect"),
 * against a real, certified provider on a local port (oidc-provider, infra/local/oidc-provider.ts): authorize →
 * the provider's login form → callback → one-time code → tokens. Two providers are configured on the one issuer:
 * `example` (not trusted for linking by address) and `trusted` (OAUTH_TRUSTED_PROVIDERS, OAUTH_AUTO_LINK on).
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto'
import { decodeJwt } from 'jose'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { runAdmin } from '../../../infra/admin.js'
import type { LocalOidcProvider, LocalOidcUser } from '../../../infra/local/oidc-provider.js'
import { startLocalOidcProvider } from '../../../infra/local/oidc-provider.js'
import { freePort } from '../../../infra/local/ports.js'
import { createApp, getApp } from '../../../lib/app.js'
import { loadConfig } from '../../../lib/config.js'
import { setLogLevel } from '../../../lib/log.js'
import { withChallenges } from '../../../lib/mfa/challenges.js'
import { oauthParts } from '../../../lib/oauth/parts.js'
import { createOAuthSignIn } from '../../../lib/oauth/sign-in.js'
import { api, registerUser, TOKEN_PAIR, verifiedUser } from '../../support/api.js'
import { captureLogs } from '../../support/capture-logs.js'
import { uniqueLogin } from '../../support/events.js'
import type { GitHubStandIn } from '../../support/github-stand-in.js'
import { startGitHubStandIn } from '../../support/github-stand-in.js'
import { signInAtProvider } from '../../support/oidc-browser.js'
import { referenceStep, referenceTotp } from '../../support/totp-reference.js'

const PUBLIC_URL = 'https://auth.attune.test'
const APP = 'https://app.attune.test/auth/callback'
const NATIVE_APP = 'com.attune.app:/oauth'
const CLIENTS = {
  example: { clientId: 'attune-example', clientSecret: `example-client-secret-${randomUUID()}` },
  trusted: { clientId: 'attune-trusted', clientSecret: `trusted-client-secret-${randomUUID()}` },
}
const GITHUB_CLIENT = { clientId: 'Iv1.attune', clientSecret: `github-client-secret-${randomUUID()}` }
const OAUTH_VARIABLES = [
  'OAUTH_PROVIDERS',
  'OAUTH_EXAMPLE_ISSUER',
  'OAUTH_EXAMPLE_CLIENT_ID',
  'OAUTH_EXAMPLE_CLIENT_SECRET',
  'OAUTH_TRUSTED_ISSUER',
  'OAUTH_TRUSTED_CLIENT_ID',
  'OAUTH_TRUSTED_CLIENT_SECRET',
  'OAUTH_DOWN_ISSUER',
  'OAUTH_DOWN_CLIENT_ID',
  'OAUTH_DOWN_CLIENT_SECRET',
  'OAUTH_GITHUB_ISSUER',
  'OAUTH_GITHUB_API_URL',
  'OAUTH_GITHUB_CLIENT_ID',
  'OAUTH_GITHUB_CLIENT_SECRET',
  'OAUTH_ALLOWED_REDIRECT_URIS',
  'OAUTH_AUTO_LINK',
  'OAUTH_TRUSTED_PROVIDERS',
  'OAUTH_PUBLIC_URL',
]

let provider: LocalOidcProvider
let github: GitHubStandIn

beforeAll(async () => {
  github = await startGitHubStandIn(GITHUB_CLIENT)
  provider = await startLocalOidcProvider({
    port: 0,
    clients: Object.entries(CLIENTS).map(([name, c]) => ({ ...c, redirectUris: [`${PUBLIC_URL}/auth/oauth/${name}/callback`] })),
    users: [],
  })
  // Read by the handlers' cold start (the first getApp() of this file), as the deployed environment would be.
  Object.assign(process.env, {
    OAUTH_PROVIDERS: 'example,trusted,down,github',
    OAUTH_EXAMPLE_ISSUER: provider.issuer,
    OAUTH_EXAMPLE_CLIENT_ID: CLIENTS.example.clientId,
    OAUTH_EXAMPLE_CLIENT_SECRET: CLIENTS.example.clientSecret,
    OAUTH_TRUSTED_ISSUER: provider.issuer,
    OAUTH_TRUSTED_CLIENT_ID: CLIENTS.trusted.clientId,
    OAUTH_TRUSTED_CLIENT_SECRET: CLIENTS.trusted.clientSecret,
    // A provider nobody answers for: discovery fails.
    OAUTH_DOWN_ISSUER: `http://127.0.0.1:${await freePort()}`,
    OAUTH_DOWN_CLIENT_ID: 'down',
    OAUTH_DOWN_CLIENT_SECRET: 'down-secret',
    // GitHub's OAuth 2 (type `github` by its name): the stand-in serves both its web and its API endpoints.
    OAUTH_GITHUB_ISSUER: github.url,
    OAUTH_GITHUB_API_URL: github.url,
    OAUTH_GITHUB_CLIENT_ID: GITHUB_CLIENT.clientId,
    OAUTH_GITHUB_CLIENT_SECRET: GITHUB_CLIENT.clientSecret,
    OAUTH_ALLOWED_REDIRECT_URIS: `${APP}, ${NATIVE_APP}`,
    OAUTH_AUTO_LINK: 'verified_email',
    OAUTH_TRUSTED_PROVIDERS: 'trusted',
    OAUTH_PUBLIC_URL: PUBLIC_URL,
  })
})

afterAll(async () => {
  for (const name of OAUTH_VARIABLES) delete process.env[name]
  await provider?.close()
  await github?.close()
})

afterEach(() => {
  provider.tamperIdTokens(undefined)
  vi.useRealTimers()
})

/** A provider account of its own for each test: its login, password, subject and address. */
function providerUser(overrides: Partial<LocalOidcUser> = {}): LocalOidcUser & { email: string } {
  const login = uniqueLogin('oidc')
  const user = {
    login,
    password: `pw-${randomUUID()}`,
    subject: `sub-${randomUUID()}`,
    email: `${login}@provider.attune.test`,
    emailVerified: true,
    name: 'Grace Hopper',
    ...overrides,
  }
  provider.addUser(user)
  return user
}

/** A client's PKCE pair (RFC 7636 S256). */
function pkce() {
  const verifier = randomBytes(48).toString('base64url')
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') }
}

const callbackOf = (name: string) => `${PUBLIC_URL}/auth/oauth/${name}/callback`
const count = async (query: Promise<{ n: number }[]>) => (await query)[0]?.n

/** Authorize → the provider's login form → the callback's parameters (the callback is not called yet). */
async function atProvider(name: string, user: LocalOidcUser, options: { state?: string; redirectUri?: string } = {}) {
  const client = pkce()
  const start = await api.oauth.authorize(name, {
    redirect_uri: options.redirectUri ?? APP,
    code_challenge: client.challenge,
    code_challenge_method: 'S256',
    ...(options.state === undefined ? {} : { state: options.state }),
  })
  expect(start.status).toBe(302)
  const callback = await signInAtProvider(start.headers['Location'] as string, user, callbackOf(name))
  return { client, parameters: Object.fromEntries(callback.searchParams), authorizationUrl: new URL(start.headers['Location'] as string) }
}

/** The whole browser part: where the callback sends the browser back to, and the client's verifier. */
async function signInFlow(name: string, user: LocalOidcUser, options: { state?: string; redirectUri?: string } = {}) {
  const { client, parameters } = await atProvider(name, user, options)
  const back = await api.oauth.callback(name, parameters)
  expect(back.status).toBe(302)
  const landed = new URL(back.headers['Location'] as string)
  return { landed, code: landed.searchParams.get('code') ?? '', verifier: client.verifier }
}

async function signIn(name: string, user: LocalOidcUser) {
  const { code, verifier } = await signInFlow(name, user)
  return api.oauth.token({ code, code_verifier: verifier })
}

describe('signing in with a provider', () => {
  it('creates an account on the first sign-in (no password, the verified address, aal1 fed tokens) and finds it by subject after', async () => {
    const user = providerUser()
    const { landed, code, verifier } = await signInFlow('example', user, { state: 'client-state-42' })
    // Back at the client's exact redirect_uri, with a one-time code and the client's own state.
    expect(`${landed.origin}${landed.pathname}`).toBe(APP)
    expect(landed.searchParams.get('state')).toBe('client-state-42')
    expect(code).toMatch(/^[A-Za-z0-9_-]{43}$/)

    const first = await api.oauth.token({ code, code_verifier: verifier })
    expect(first.status).toBe(200)
    expect(first.body.data).toEqual(TOKEN_PAIR)
    expect(decodeJwt(first.body.data.access_token)).toMatchObject({ acr: 'aal1', amr: ['fed'] })
    const me = await api.me(first.body.data.access_token)
    expect(me.body.data).toMatchObject({
      login: expect.stringMatching(/^u_[a-z2-9]{14}$/),
      display_name: 'Grace Hopper',
      email: user.email,
    })
    const listed = await api.identities.list(first.body.data.access_token)
    expect(listed.body.data).toEqual({
      has_password: false,
      identities: [
        { id: expect.any(String), provider: 'example', email: user.email, created: expect.any(String), last_used: expect.any(String) },
      ],
    })
    // The account cannot log in with a password: it has none.
    expect((await api.login({ login: me.body.data.login, password: '' })).status).toBe(400)

    // Again, with the provider's address changed: the same account (found by subject, never by address).
    provider.addUser({ ...user, email: `changed-${user.email}` })
    const again = await signIn('example', user)
    expect((await api.me(again.body.data.access_token)).body.data.id).toBe(me.body.data.id)
    const [event] = await getApp().sql<{ data: { provider: string } }[]>`
      select data from attune.audit_event where identity_id = ${me.body.data.id} and type = 'identity.registered'`
    expect(event?.data).toEqual({ provider: 'example' })
  })

  it('refuses a provider sign-in to a suspended account as a bad code, and opens nothing', async () => {
    const user = providerUser()
    const first = await signIn('example', user)
    const { login, id } = (await api.me(first.body.data.access_token)).body.data
    await runAdmin(['suspend', login], getApp().sql)
    const refused = await signIn('example', user)
    expect({ status: refused.status, reason: refused.body.reason }).toEqual({ status: 401, reason: 'oauth_code_invalid' })
    const [open] = await getApp().sql<{ n: number }[]>`
      select count(*)::int as n from attune.session where identity_id = ${id} and revoked is null`
    expect(open?.n).toBe(0)
    await runAdmin(['unsuspend', login], getApp().sql)
    expect((await signIn('example', user)).status).toBe(200)
  })

  it('keeps an unverified provider address out of the new account', async () => {
    const user = providerUser({ emailVerified: false })
    const res = await signIn('example', user)
    expect(res.status).toBe(200)
    expect((await api.me(res.body.data.access_token)).body.data.email ?? null).toBeNull()
  })

  it('returns a native app to its reverse-domain redirect_uri', async () => {
    const { landed } = await signInFlow('example', providerUser(), { redirectUri: NATIVE_APP })
    expect(landed.protocol).toBe('com.attune.app:')
    expect(landed.searchParams.get('code')).toMatch(/^[A-Za-z0-9_-]{43}$/)
  })

  it('sends the browser to the provider with our own state, nonce and PKCE S256, never the client’s challenge', async () => {
    const client = pkce()
    const start = await api.oauth.authorize('example', {
      redirect_uri: APP,
      code_challenge: client.challenge,
      code_challenge_method: 'S256',
    })
    const url = new URL(start.headers['Location'] as string)
    expect(`${url.origin}${url.pathname}`).toBe(`${provider.issuer}/auth`)
    expect(Object.fromEntries(url.searchParams)).toMatchObject({
      client_id: CLIENTS.example.clientId,
      redirect_uri: callbackOf('example'),
      response_type: 'code',
      scope: 'openid email profile',
      code_challenge_method: 'S256',
      state: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      nonce: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
    })
    expect(url.searchParams.get('code_challenge')).not.toBe(client.challenge)
    expect(start.headers).toMatchObject({ 'Cache-Control': 'no-store', 'Referrer-Policy': 'no-referrer' })
    // Only the state's hash is stored.
    const state = url.searchParams.get('state') as string
    expect(
      await count(
        getApp().sql`select count(*)::int as n from attune.oauth_flow where state_hash = ${createHash('sha256').update(state).digest()}`,
      ),
    ).toBe(1)
  })

  it('answers 404 for a provider that is not configured, and 503 when a configured one cannot be reached', async () => {
    const { challenge } = pkce()
    const query = { redirect_uri: APP, code_challenge: challenge, code_challenge_method: 'S256' }
    expect((await api.oauth.authorize('nobody', query)).body).toMatchObject({ code: 'NOT_FOUND', reason: 'oauth_provider_unknown' })
    expect((await api.oauth.authorize('down', query)).body).toMatchObject({ code: 'SERVICE_UNAVAILABLE', reason: 'service_unavailable' })
  })
})

describe('attacks on the flow', () => {
  it('refuses a redirect_uri that is not listed exactly: prefixes, suffixes, letter case, queries, look-alike hosts', async () => {
    const { challenge } = pkce()
    const tricks = [
      `${APP}x`,
      `${APP}/`,
      `${APP}/../evil`,
      `${APP}?next=https://evil.test`,
      `${APP}#frag`,
      'https://APP.attune.test/auth/callback',
      'https://app.attune.test/auth/Callback',
      'https://app.attune.test.evil.test/auth/callback',
      'https://app.attune.test:443@evil.test/auth/callback',
      'http://app.attune.test/auth/callback',
      'https://app.attune.test/auth',
      `${NATIVE_APP}/more`,
      'javascript:alert(1)',
    ]
    for (const redirect_uri of tricks) {
      const res = await api.oauth.authorize('example', { redirect_uri, code_challenge: challenge, code_challenge_method: 'S256' })
      expect(res.status, redirect_uri).toBe(400)
      expect(res.body.reason, redirect_uri).toBe('redirect_uri_not_allowed')
      expect(res.headers['Location'], redirect_uri).toBeUndefined()
    }
    expect(
      await count(getApp().sql`select count(*)::int as n from attune.oauth_flow where redirect_uri <> all(${[APP, NATIVE_APP]})`),
    ).toBe(0)
  })

  it('refuses a plain challenge or a missing one', async () => {
    const plain = await api.oauth.authorize('example', {
      redirect_uri: APP,
      code_challenge: 'a'.repeat(43),
      code_challenge_method: 'plain',
    })
    expect(plain.body).toMatchObject({ reason: 'invalid_field', error: 'code_challenge_method must be S256' })
    expect((await api.oauth.authorize('example', { redirect_uri: APP })).body.reason).toBe('invalid_field')
  })

  it('takes a state once: a replayed, forged or other provider’s state is refused with no redirect', async () => {
    const { parameters } = await atProvider('example', providerUser())
    expect((await api.oauth.callback('example', parameters)).status).toBe(302)
    const replayed = await api.oauth.callback('example', parameters)
    expect(replayed.status).toBe(400)
    expect(replayed.body).toMatchObject({ code: 'BAD_REQUEST', reason: 'oauth_state_invalid' })
    expect((await api.oauth.callback('example', { ...parameters, state: randomBytes(32).toString('base64url') })).body.reason).toBe(
      'oauth_state_invalid',
    )
    expect((await api.oauth.callback('example', { code: 'x' })).body.reason).toBe('oauth_state_invalid')

    const other = await atProvider('example', providerUser())
    expect((await api.oauth.callback('trusted', other.parameters)).body.reason).toBe('oauth_state_invalid')
    // That spent it: the right provider cannot use it after.
    expect((await api.oauth.callback('example', other.parameters)).body.reason).toBe('oauth_state_invalid')
  })

  it('refuses an expired flow', async () => {
    const { parameters } = await atProvider('example', providerUser())
    await getApp().sql`update attune.oauth_flow set expires = now() - interval '1 second'
                       where state_hash = ${createHash('sha256')
                         .update(parameters['state'] as string)
                         .digest()}`
    expect((await api.oauth.callback('example', parameters)).body.reason).toBe('oauth_state_invalid')
  })

  it.each([
    ['without a nonce', ({ nonce: _, ...claims }: Record<string, unknown>) => claims],
    ['with another nonce', (claims: Record<string, unknown>) => ({ ...claims, nonce: randomBytes(32).toString('base64url') })],
    ['for another audience', (claims: Record<string, unknown>) => ({ ...claims, aud: 'someone-else' })],
    ['from another issuer', (claims: Record<string, unknown>) => ({ ...claims, iss: 'https://evil.test' })],
    ['expired', (claims: Record<string, unknown>) => ({ ...claims, exp: Math.floor(Date.now() / 1000) - 3600 })],
  ])('sends the client access_denied, never a code, for an ID token %s', async (_, tamper) => {
    const user = providerUser()
    provider.tamperIdTokens(tamper)
    const { parameters } = await atProvider('example', user)
    const back = await api.oauth.callback('example', parameters)
    expect(back.status).toBe(302)
    const landed = new URL(back.headers['Location'] as string)
    expect(landed.searchParams.get('error')).toBe('access_denied')
    expect(landed.searchParams.has('code')).toBe(false)
    expect(await count(getApp().sql`select count(*)::int as n from attune.federated_identity where subject = ${user.subject}`)).toBe(0)
  })

  it('never stores what a provider may not send: a control character drops a name, a subject over 255 characters is refused', async () => {
    const odd = providerUser({ name: 'Grace\u0000Hopper', email: `bad\u0007-${uniqueLogin('x')}@provider.attune.test` })
    const res = await signIn('example', odd)
    expect(res.status).toBe(200)
    expect((await api.me(res.body.data.access_token)).body.data).toMatchObject({ display_name: null })
    expect((await api.me(res.body.data.access_token)).body.data.email ?? null).toBeNull()

    const long = providerUser({ subject: 's'.repeat(256) })
    const { parameters } = await atProvider('example', long)
    const back = await api.oauth.callback('example', parameters)
    expect(new URL(back.headers['Location'] as string).searchParams.get('error')).toBe('access_denied')
  })

  it('refuses a callback whose iss names another issuer (mix-up, RFC 9207)', async () => {
    const { parameters } = await atProvider('example', providerUser())
    const back = await api.oauth.callback('example', { ...parameters, iss: 'https://evil.test' })
    expect(new URL(back.headers['Location'] as string).searchParams.get('error')).toBe('access_denied')
  })

  it('passes a provider’s refusal on to the client as access_denied', async () => {
    const { parameters } = await atProvider('example', providerUser())
    const { code: _, ...rest } = parameters
    const back = await api.oauth.callback('example', { ...rest, error: 'access_denied', error_description: 'the user said no' })
    const landed = new URL(back.headers['Location'] as string)
    expect(Object.fromEntries(landed.searchParams)).toEqual({ error: 'access_denied' })
  })

  it('takes a one-time code once, and only with the verifier of its challenge', async () => {
    const flow = await signInFlow('example', providerUser())
    const wrong = await api.oauth.token({ code: flow.code, code_verifier: pkce().verifier })
    expect(wrong.status).toBe(401)
    expect(wrong.body).toMatchObject({ code: 'UNAUTHORIZED', reason: 'oauth_code_invalid' })
    // The wrong verifier spent it: the right one comes too late.
    expect((await api.oauth.token({ code: flow.code, code_verifier: flow.verifier })).body.reason).toBe('oauth_code_invalid')

    const second = await signInFlow('example', providerUser())
    expect((await api.oauth.token({ code: second.code, code_verifier: second.verifier })).status).toBe(200)
    expect((await api.oauth.token({ code: second.code, code_verifier: second.verifier })).body.reason).toBe('oauth_code_invalid')

    const late = await signInFlow('example', providerUser())
    await getApp().sql`update attune.oauth_code set expires = now() - interval '1 second'
                       where code_hash = ${createHash('sha256').update(late.code).digest()}`
    expect((await api.oauth.token({ code: late.code, code_verifier: late.verifier })).body.reason).toBe('oauth_code_invalid')
    expect((await api.oauth.token({ code: 'forged', code_verifier: late.verifier })).body.reason).toBe('oauth_code_invalid')
  })

  it('lets one of two parallel redemptions of a code through: one account, one session', async () => {
    const user = providerUser()
    const flow = await signInFlow('example', user)
    const results = await Promise.all([1, 2].map(() => api.oauth.token({ code: flow.code, code_verifier: flow.verifier })))
    expect(results.map((r) => r.status).sort()).toEqual([200, 401])
    const [row] = await getApp().sql<{ identities: number; sessions: number }[]>`
      select count(distinct f.identity_id)::int as identities, count(s.id)::int as sessions
      from attune.federated_identity f left join attune.session s on s.identity_id = f.identity_id
      where f.subject = ${user.subject}`
    expect(row).toEqual({ identities: 1, sessions: 1 })
  })

  it('makes one account of two first sign-ins racing for the same provider account', async () => {
    const user = providerUser()
    const flows = [await signInFlow('example', user), await signInFlow('example', user)]
    const results = await Promise.all(flows.map((f) => api.oauth.token({ code: f.code, code_verifier: f.verifier })))
    expect(results.map((r) => r.status)).toEqual([200, 200])
    const subjects = results.map((r) => decodeJwt(r.body.data.access_token).sub)
    expect(subjects[0]).toBe(subjects[1])
    const [row] = await getApp().sql<{ identities: number; links: number }[]>`
      select count(distinct identity_id)::int as identities, count(*)::int as links from attune.federated_identity where subject = ${user.subject}`
    expect(row).toEqual({ identities: 1, links: 1 })
    // Both sessions work.
    for (const r of results) expect((await api.me(r.body.data.access_token)).status).toBe(200)
  })
})

describe('accounts that exist already', () => {
  it('refuses a provider address that is an existing account’s, verified or not at the provider, and links nothing', async () => {
    const existing = await verifiedUser('owner')
    for (const emailVerified of [false, true]) {
      const user = providerUser({ email: existing.email.toUpperCase(), emailVerified })
      const res = await signIn('example', user)
      expect(res.status).toBe(409)
      expect(res.body).toEqual({
        error: 'An account with this email address exists: sign in to it, then link this provider from there',
        code: 'ACCOUNT_EXISTS_LINK_REQUIRED',
        reason: 'account_exists_link_required',
      })
      expect(await count(getApp().sql`select count(*)::int as n from attune.federated_identity where subject = ${user.subject}`)).toBe(0)
    }
    expect((await api.identities.list(existing.tokens.access_token)).body.data.identities).toEqual([])
  })

  it('never links by an unverified address, even for a trusted provider with automatic linking on', async () => {
    const existing = await verifiedUser('owner')
    const res = await signIn('trusted', providerUser({ email: existing.email, emailVerified: false }))
    expect(res.body.code).toBe('ACCOUNT_EXISTS_LINK_REQUIRED')
  })

  it('links a trusted provider’s verified address to the account verified with it (OAUTH_AUTO_LINK)', async () => {
    const existing = await verifiedUser('owner')
    const user = providerUser({ email: existing.email })
    const res = await signIn('trusted', user)
    expect(res.status).toBe(200)
    expect((await api.me(res.body.data.access_token)).body.data.id).toBe(existing.identityId)
    const [event] = await getApp().sql<{ data: Record<string, unknown> }[]>`
      select data from attune.audit_event where identity_id = ${existing.identityId} and type = 'identity.linked'`
    expect(event?.data).toMatchObject({ provider: 'trusted', automatic: true })
    // Linked now: found by subject from here on, even with another address.
    provider.addUser({ ...user, email: `other-${user.email}` })
    expect((await api.me((await signIn('trusted', user)).body.data.access_token)).body.data.id).toBe(existing.identityId)
  })

  it('asks a provider sign-in of an account with a second factor for it, and opens an aal2 session with fed and otp', async () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime((Math.floor(Date.now() / 30_000) + 1) * 30_000)
    const user = providerUser()
    const first = await signIn('example', user)
    const token = first.body.data.access_token
    // A provider sign-in is recent: enrolment needs no password (the account has none).
    const enrolment = await api.mfa.enrol(token)
    expect(enrolment.status).toBe(201)
    const { factor_id, secret } = enrolment.body.data
    const code = () => referenceTotp(secret, referenceStep(Date.now()))
    expect((await api.mfa.activate(token, factor_id, { code: code() })).status).toBe(200)
    vi.setSystemTime(Date.now() + 30_000)

    const second = await signIn('example', user)
    expect(second.status).toBe(200)
    expect(second.body.data).toEqual({
      mfa_required: true,
      mfa_token: expect.any(String),
      methods: ['totp', 'recovery_code'],
      expires_in: 300,
    })
    const verified = await api.mfa.verify({ mfa_token: second.body.data.mfa_token, code: code() })
    expect(verified.status).toBe(200)
    expect(decodeJwt(verified.body.data.access_token)).toMatchObject({ acr: 'aal2', amr: ['fed', 'otp'] })
  })
})

describe('linking and unlinking', () => {
  /** Starts a link for `token`, signs in at the provider as `user`, and answers the code and verifier for the finish. */
  async function linkFlow(token: string, name: string, user: LocalOidcUser) {
    const client = pkce()
    const started = await api.identities.link(token, name, {
      redirect_uri: APP,
      code_challenge: client.challenge,
      code_challenge_method: 'S256',
    })
    expect(started.status).toBe(200)
    expect(started.body.data).toEqual({ authorization_url: expect.stringContaining(`${provider.issuer}/auth?`), expires_in: 600 })
    const callback = await signInAtProvider(started.body.data.authorization_url, user, callbackOf(name))
    const back = await api.oauth.callback(name, Object.fromEntries(callback.searchParams))
    return { code: new URL(back.headers['Location'] as string).searchParams.get('code') ?? '', verifier: client.verifier }
  }

  it('links a provider account to a signed-in identity, which then signs in with it, and unlinks it', async () => {
    const owner = await registerUser()
    const user = providerUser({ emailVerified: false })
    const { code, verifier } = await linkFlow(owner.tokens.access_token, 'example', user)
    const linked = await api.identities.link(owner.tokens.access_token, 'example', { code, code_verifier: verifier })
    expect(linked.status).toBe(200)
    expect(linked.body.data).toEqual({
      id: expect.any(String),
      provider: 'example',
      email: null,
      created: expect.any(String),
      last_used: null,
    })
    const listed = await api.identities.list(owner.tokens.access_token)
    expect(listed.body.data).toEqual({ has_password: true, identities: [linked.body.data] })

    const viaProvider = await signIn('example', user)
    expect(decodeJwt(viaProvider.body.data.access_token).sub).toBe(String(owner.identityId))

    // The same provider account cannot be linked to a second identity.
    const other = await registerUser()
    const again = await linkFlow(other.tokens.access_token, 'example', user)
    const refused = await api.identities.link(other.tokens.access_token, 'example', { code: again.code, code_verifier: again.verifier })
    expect(refused.status).toBe(409)
    expect(refused.body.reason).toBe('identity_already_linked')

    // Unlinked (the password is still a way in): the provider account no longer reaches this identity.
    expect((await api.identities.unlink(owner.tokens.access_token, linked.body.data.id)).body.data).toEqual({ unlinked: true })
    const afterwards = await signIn('example', user)
    expect(decodeJwt(afterwards.body.data.access_token).sub).not.toBe(String(owner.identityId))
    expect((await api.identities.unlink(owner.tokens.access_token, linked.body.data.id)).body.reason).toBe('linked_identity_not_found')
  })

  it('keeps link codes and sign-in codes apart, and binds a link code to the identity that started it', async () => {
    const owner = await registerUser()
    const link = await linkFlow(owner.tokens.access_token, 'example', providerUser())
    expect((await api.oauth.token({ code: link.code, code_verifier: link.verifier })).body.reason).toBe('oauth_code_invalid')

    const stranger = await registerUser()
    const stolen = await linkFlow(owner.tokens.access_token, 'example', providerUser())
    const res = await api.identities.link(stranger.tokens.access_token, 'example', { code: stolen.code, code_verifier: stolen.verifier })
    expect(res.body.reason).toBe('oauth_code_invalid')

    const signInCode = await signInFlow('example', providerUser())
    const misuse = await api.identities.link(owner.tokens.access_token, 'example', {
      code: signInCode.code,
      code_verifier: signInCode.verifier,
    })
    expect(misuse.body.reason).toBe('oauth_code_invalid')
    expect((await api.identities.list(owner.tokens.access_token)).body.data.identities).toEqual([])
  })

  it('never removes the last way in: an account with no password keeps its only provider', async () => {
    const first = await signIn('example', providerUser())
    const token = first.body.data.access_token
    const [only] = (await api.identities.list(token)).body.data.identities
    const res = await api.identities.unlink(token, only.id)
    expect(res.status).toBe(409)
    expect(res.body).toMatchObject({ code: 'CONFLICT', reason: 'last_way_in' })
    expect((await api.identities.list(token)).body.data.identities).toHaveLength(1)
  })

  it('lets only one of two parallel unlinks of an account’s last two providers through', async () => {
    const user = providerUser()
    const first = await signIn('example', user)
    const token = first.body.data.access_token
    const second = await linkFlow(token, 'trusted', providerUser())
    expect((await api.identities.link(token, 'trusted', { code: second.code, code_verifier: second.verifier })).status).toBe(200)
    const ids = (await api.identities.list(token)).body.data.identities.map((i: { id: string }) => i.id)
    const results = await Promise.all(ids.map((id: string) => api.identities.unlink(token, id)))
    expect(results.map((r) => r.status).sort()).toEqual([200, 409])
    expect((await api.identities.list(token)).body.data.identities).toHaveLength(1)
  })

  it('needs a recent sign-in to start a link or to unlink (RFC 9470 challenge)', async () => {
    const owner = await registerUser()
    await getApp().sql`update attune.session set auth_time = now() - interval '301 seconds' where identity_id = ${owner.identityId}`
    const { challenge } = pkce()
    const res = await api.identities.link(owner.tokens.access_token, 'example', {
      redirect_uri: APP,
      code_challenge: challenge,
      code_challenge_method: 'S256',
    })
    expect(res.status).toBe(401)
    expect(res.body.reason).toBe('step_up_required')
    expect(res.headers['WWW-Authenticate']).toBe('Bearer realm="attune-auth", error="insufficient_user_authentication", max_age=300')
    expect((await api.identities.unlink(owner.tokens.access_token, randomUUID())).body.reason).toBe('step_up_required')
  })
})

describe('GitHub (OAuth 2 without OpenID Connect)', () => {
  /** Authorize → GitHub (which approves at once as the user it was told) → callback → the one-time code. */
  async function githubFlow() {
    const client = pkce()
    const start = await api.oauth.authorize('github', {
      redirect_uri: APP,
      code_challenge: client.challenge,
      code_challenge_method: 'S256',
    })
    const toGitHub = new URL(start.headers['Location'] as string)
    expect(`${toGitHub.origin}${toGitHub.pathname}`).toBe(`${github.url}/login/oauth/authorize`)
    expect(Object.fromEntries(toGitHub.searchParams)).toMatchObject({ scope: 'read:user user:email', code_challenge_method: 'S256' })
    expect(toGitHub.searchParams.has('nonce')).toBe(false)
    const atCallback = new URL((await fetch(toGitHub, { redirect: 'manual' })).headers.get('location') ?? '')
    const back = await api.oauth.callback('github', Object.fromEntries(atCallback.searchParams))
    const landed = new URL(back.headers['Location'] as string)
    return { landed, code: landed.searchParams.get('code') ?? '', verifier: client.verifier }
  }

  it('signs in with the numeric user id as subject and the primary verified address, through the same routes', async () => {
    const id = Math.floor(Math.random() * 1e9)
    const email = `${uniqueLogin('gh')}@github.attune.test`
    github.signInAs({
      id,
      login: 'octocat',
      name: 'The Octocat',
      emails: [
        { email: `unverified-${email}`, primary: false, verified: false },
        { email, primary: true, verified: true },
      ],
    })
    const first = await githubFlow()
    const res = await api.oauth.token({ code: first.code, code_verifier: first.verifier })
    expect(res.status).toBe(200)
    expect((await api.me(res.body.data.access_token)).body.data).toMatchObject({ display_name: 'The Octocat', email })
    const [link] = await getApp().sql`select subject from attune.federated_identity where provider = 'github' and email = ${email}`
    expect(link?.['subject']).toBe(String(id))
    // Again: the same account.
    const second = await githubFlow()
    const again = await api.oauth.token({ code: second.code, code_verifier: second.verifier })
    expect(decodeJwt(again.body.data.access_token).sub).toBe(decodeJwt(res.body.data.access_token).sub)
  })

  it('keeps no address when GitHub has no primary verified one', async () => {
    github.signInAs({
      id: Math.floor(Math.random() * 1e9),
      login: 'ghost',
      name: null,
      emails: [{ email: 'x@github.attune.test', primary: true, verified: false }],
    })
    const flow = await githubFlow()
    const res = await api.oauth.token({ code: flow.code, code_verifier: flow.verifier })
    expect((await api.me(res.body.data.access_token)).body.data.email ?? null).toBeNull()
  })
})

describe('throttling', () => {
  it('counts failed code redemptions and bad states against the source address: past ADDRESS_MAX_FAILURES, 429', async () => {
    const env: Record<string, string | undefined> = { ...process.env, ADDRESS_MAX_FAILURES: '3' }
    const rules = createOAuthSignIn(withChallenges(oauthParts(createApp(loadConfig(env)))))
    const client = { requestId: null, userAgent: null, sourceIp: `10.${randomBytes(3).join('.')}` }
    const refusals = []
    for (let i = 0; i < 4; i++) {
      const failed = await rules
        .token({ code: randomBytes(32).toString('base64url'), code_verifier: pkce().verifier }, client)
        .catch((e) => e)
      refusals.push(failed.reason)
    }
    expect(refusals).toEqual(['oauth_code_invalid', 'oauth_code_invalid', 'oauth_code_invalid', 'too_many_attempts'])
    const state = await rules.callback('example', { state: randomBytes(32).toString('base64url') }, client).catch((e) => e)
    expect(state).toMatchObject({ reason: 'too_many_attempts', headers: { 'Retry-After': expect.stringMatching(/^\d+$/) } })
  })
})

describe('what is logged', () => {
  it('never logs a provider secret, a state, a nonce, a code, a verifier or a token', async () => {
    const logs = captureLogs()
    setLogLevel('debug')
    try {
      const { parameters, client, authorizationUrl } = await atProvider('example', providerUser())
      const back = await api.oauth.callback('example', parameters)
      const code = new URL(back.headers['Location'] as string).searchParams.get('code') ?? ''
      const res = await api.oauth.token({ code, code_verifier: client.verifier })
      const secrets = [
        CLIENTS.example.clientSecret,
        parameters['code'],
        parameters['state'],
        authorizationUrl.searchParams.get('nonce'),
        code,
        client.verifier,
        res.body.data.access_token,
        res.body.data.refresh_token,
      ]
      const text = logs.lines.map((line) => line.text).join('\n')
      for (const secret of secrets) expect(text).not.toContain(secret)
      // It did log the flow, step by step.
      expect(logs.entries().map((entry) => entry['event'])).toEqual(expect.arrayContaining(['auth.oauth_callback', 'auth.oauth_token']))
    } finally {
      setLogLevel('silent')
      logs.stop()
    }
  })
})
