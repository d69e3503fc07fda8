/**
 * Property: whatever query, body, headers, Authorization and path parameter a client sends to a route of "Sign in
 * with OpenID Connect" — GET /auth/oauth/{provider}/authorize and /callback, POST /auth/oauth/token (public), and
 * behind the authorizer POST /auth/identities/{provider}/link, GET /auth/identities, DELETE /auth/identities/{id} —
 * the answer (our authorizer and Gateway Responses, then the handler) is a documented success (a 302 with a
 * Location and no body for the two GET routes, a 200 `{data}` for the others) or a 4xx `{error, code, reason}`
 * matching docs/openapi.yaml, never a 5xx, never a stack trace or an internal detail. The one 5xx allowed is the
 * 503 `service_unavailable` of authorize and of a link's start for `down`, the configured provider nobody answers
 * for, as documented.
 *
 * And the successes are only the ones the rules allow: a 302 to the provider (or a link's authorization URL) only
 * for an allowed redirect_uri and an S256 challenge, with our own state, nonce and challenge; a 302 back to the
 * client only for the live state of a sign-in, to its own redirect_uri, with a one-time code only for the
 * provider's own code and issuer; tokens or a link only for a live one-time code of the right kind with the
 * verifier of its challenge; an unlink only of the caller's own link, never its last way in.
 *
 * The stand (tests/support/fuzz/oauth.ts): the real local OpenID provider, providers `example` and `other` on it,
 * and `down`. Callback cases start real sign-ins (and most sign in at the provider, as a browser would); the token
 * and link cases redeem one-time codes stored straight in the repository, with a known verifier. Each case gets a
 * session of its own; the links a case made or removed are put back before the next.
 */
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { handler as linkHandler } from '../../../functions/identities-link.js'
import { handler as listHandler } from '../../../functions/identities-list.js'
import { handler as unlinkHandler } from '../../../functions/identities-unlink.js'
import { handler as authorizeHandler } from '../../../functions/oauth-authorize.js'
import { handler as callbackHandler } from '../../../functions/oauth-callback.js'
import { handler as tokenHandler } from '../../../functions/oauth-token.js'
import { getApp } from '../../../lib/app.js'
import { secretHash } from '../../../lib/oauth/accounts.js'
import { api, registerUser, verifiedUser } from '../../support/api.js'
import { body, jointBody } from '../../support/fuzz/bodies.js'
import type { FuzzUser } from '../../support/fuzz/case-context.js'
import { CaseContext, closeSessions } from '../../support/fuzz/case-context.js'
import { checkAnswer, receivedJson, StatusTally } from '../../support/fuzz/check.js'
import { authorization, headers } from '../../support/fuzz/headers.js'
import { enableTotp, inPath, mfaFuzzUser, sometimes } from '../../support/fuzz/mfa.js'
import type { CallbackValue, LinkIdChoice, MintedCode, MintPeople, OAuthStand, WorkingProvider } from '../../support/fuzz/oauth.js'
import {
  ALLOWED_REDIRECT_URIS,
  altered,
  authorizeQuery,
  callbackOf,
  callbackQuery,
  challengeMethodValue,
  challengeValue,
  checkAuthorizationUrl,
  checkRedirect,
  checkUnavailable,
  clientStateValue,
  codeVerifierValue,
  DOWN_PROVIDER,
  federated,
  flowChoice,
  freshSubject,
  linkAccount,
  linkIdChoice,
  mintChoice,
  mintCode,
  OAuthCase,
  oauthCodeValue,
  oauthRef,
  pkcePair,
  providerName,
  queryOf,
  redirectUriValue,
  startable,
  startOAuthStand,
  WORKING_PROVIDERS,
  wellFormedBody,
} from '../../support/fuzz/oauth.js'
import type { Answer, GeneratedRequest, Route } from '../../support/fuzz/send.js'
import { send } from '../../support/fuzz/send.js'
import { fuzzSettings } from '../../support/fuzz/settings.js'
import { field } from '../../support/fuzz/values.js'
import { signInAtProvider } from '../../support/oidc-browser.js'

const settings = fuzzSettings(process.env)
const tallies = new Map<string, StatusTally>()
/** With fewer cases (a small FUZZ_RUNS split over every endpoint), which refusals the cases reach is left to chance. */
const ENOUGH_TO_REACH = 100

const route = (method: string, documentedPath: string, handler: Route['handler'], isProtected: boolean) =>
  ({ method, path: documentedPath, documentedPath, handler, protected: isProtected }) satisfies Route

const ROUTES = {
  authorize: route('GET', '/auth/oauth/{provider}/authorize', authorizeHandler, false),
  callback: route('GET', '/auth/oauth/{provider}/callback', callbackHandler, false),
  token: route('POST', '/auth/oauth/token', tokenHandler, false),
  link: route('POST', '/auth/identities/{provider}/link', linkHandler, true),
  list: route('GET', '/auth/identities', listHandler, true),
  unlink: route('DELETE', '/auth/identities/{id}', unlinkHandler, true),
}

const isWorking = (provider: string | undefined): provider is WorkingProvider =>
  (WORKING_PROVIDERS as readonly string[]).includes(provider ?? '')

const isConfigured = (provider: string | undefined): boolean => isWorking(provider) || provider === DOWN_PROVIDER

/** The route with its `{provider}` (or `{id}`) in the path as a client would write it, and the path parameters API Gateway passes. */
function aimed(
  documented: Route,
  name: 'provider' | 'id',
  value: string | undefined,
): { target: Route; params: Record<string, string> | null } {
  return {
    target: { ...documented, path: documented.documentedPath.replace(`{${name}}`, inPath(value)) },
    params: value === undefined ? null : { [name]: value },
  }
}

/** The JSON body the handler received, when it was a JSON object (undefined otherwise). */
function received(answer: Answer): Record<string, unknown> | undefined {
  try {
    const json: unknown = receivedJson(answer.sent)
    return typeof json === 'object' && json !== null && !Array.isArray(json) ? (json as Record<string, unknown>) : undefined
  } catch {
    return undefined
  }
}

/**
 * The answer with the parameter name a 400 starts with (`code: Invalid length...`, as docs/openapi.yaml shows it)
 * put as `parameter`, when it is one the client sent: its own words, which may be anything (`error`, 300
 * characters...), are not the service's to be checked for internals or length.
 */
function withoutEchoedName(answer: Answer, names: string[]): Answer {
  if (answer.status !== 400) return answer
  let body: { error?: unknown }
  try {
    body = JSON.parse(answer.raw) as { error?: unknown }
  } catch {
    return answer
  }
  const { error } = body
  if (typeof error !== 'string') return answer
  const [echoed] = names.filter((name) => name !== '' && error.startsWith(`${name}: `)).sort((a, b) => b.length - a.length)
  return echoed === undefined ? answer : { ...answer, raw: JSON.stringify({ ...body, error: `parameter${error.slice(echoed.length)}` }) }
}

const noBodyFields = {}

/** Now and then, the case's session signed in longer ago than STEP_UP_MAX_AGE (a link's start and an unlink need a recent one). */
const staleSignIn = fc.oneof({ weight: 5, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) })

/** Who sends a case behind the authorizer: an identity with a password and no link, or one a provider sign-in created (no password, one link). */
type CallerName = 'password' | 'passwordless'
const callerName: fc.Arbitrary<CallerName> = fc.constantFrom('password', 'passwordless')

interface Caller {
  user: FuzzUser
  hasPassword: boolean
  /** The links the identity has between cases. */
  baseline: Array<{ id: string; provider: string; subject: string }>
}

/** POST /auth/identities/{provider}/link's fields: a start, a finish, both at once, or neither. */
function linkFields(plausible: number): fc.Arbitrary<Record<string, unknown>> {
  const start = fc.record({
    redirect_uri: field(redirectUriValue, { plausible }),
    code_challenge: field(challengeValue, { plausible }),
    code_challenge_method: field(challengeMethodValue, { plausible }),
    state: sometimes(field(clientStateValue, { plausible: 20 }), 1, 1),
  })
  const finish = fc.record({
    code: field(oauthCodeValue, { plausible }),
    code_verifier: field(codeVerifierValue, { plausible }),
  })
  // Valid as the schema goes (whether the redirect_uri is allowed, the code live... is the rules' to say).
  const validStart = fc.record(
    {
      redirect_uri: fc.constantFrom(...ALLOWED_REDIRECT_URIS),
      code_challenge: fc.constant(oauthRef('codeChallenge')),
      code_challenge_method: fc.constant('S256'),
      state: fc.stringMatching(/^[!-~]{1,40}$/),
    },
    { requiredKeys: ['redirect_uri', 'code_challenge', 'code_challenge_method'] },
  )
  const validFinish = fc.record({ code: fc.constant(oauthRef('oauthCode')), code_verifier: fc.constant(oauthRef('codeVerifier')) })
  return fc.oneof(
    { weight: 4, arbitrary: validStart.map((s): Record<string, unknown> => s) },
    { weight: 4, arbitrary: validFinish.map((f): Record<string, unknown> => f) },
    { weight: 4, arbitrary: start.map((s): Record<string, unknown> => s) },
    { weight: 4, arbitrary: finish.map((f): Record<string, unknown> => f) },
    { weight: 1, arbitrary: fc.tuple(start, finish).map(([s, f]): Record<string, unknown> => ({ ...s, ...f })) },
    { weight: 1, arbitrary: fc.constant<Record<string, unknown>>({}) },
  )
}
const LINK_FIELDS = ['redirect_uri', 'code_challenge', 'code_challenge_method', 'state', 'code', 'code_verifier']
const linkBody = fc.oneof(
  { weight: 2, arbitrary: jointBody(LINK_FIELDS, linkFields(40)) },
  { weight: 3, arbitrary: wellFormedBody(linkFields(80)) },
)

/** The `{provider}` of a start (authorize, a link's): `down` more often than elsewhere, as only a valid start reaches its 503. */
const startProvider = fc.oneof(
  { weight: 4, arbitrary: providerName },
  { weight: 1, arbitrary: fc.constant<string | undefined>(DOWN_PROVIDER) },
)

/** POST /auth/oauth/token's body. */
const tokenBody = body({
  code: field(oauthCodeValue, { plausible: 40 }),
  code_verifier: field(codeVerifierValue, { plausible: 40 }),
})

/** Whether the handler received exactly the case's one-time code and the verifier of its challenge. */
function redeemsRightly(sent: Record<string, unknown> | undefined, minted: MintedCode | undefined): boolean {
  return minted !== undefined && sent?.['code'] === minted.code && sent['code_verifier'] === minted.verifier
}

describe('bad input on the provider sign-in and linking routes', () => {
  let stand: OAuthStand
  /** A password, no link between cases: the caller of most link, list and unlink cases, and of the public routes. */
  let password: Caller
  /** No password (a provider sign-in created it), one link on `example`. */
  let passwordless: Caller
  /** Never a caller: its link (on `example`) is another identity's, and a code bound to it is not the caller's. */
  let stranger: FuzzUser
  let strangerLink: string
  let people: Omit<MintPeople, 'callerId'>

  beforeAll(async () => {
    // Before any handler runs: the handlers read OAUTH_* at their first call.
    stand = await startOAuthStand()
    const [p, s, m, owner] = await Promise.all([registerUser(), registerUser(), registerUser(), verifiedUser('oauth-owner')])
    stranger = { identityId: s.identityId, login: s.login, password: s.password }
    const linkedSubject = freshSubject()
    strangerLink = await linkAccount(s.identityId, 'example', linkedSubject)
    const withTotp = mfaFuzzUser(m)
    await enableTotp(withTotp)
    const secondFactorSubject = freshSubject()
    await linkAccount(m.identityId, 'example', secondFactorSubject)
    people = { strangerId: s.identityId, ownerEmail: owner.email, linkedSubject, secondFactorSubject }
    password = { user: { identityId: p.identityId, login: p.login, password: p.password }, hasPassword: true, baseline: [] }

    // An identity without a password, as a first sign-in with a provider creates it.
    const first = await mintCode(
      { account: 'fresh', email: 'none', name: 'Fuzz Provider User', provider: 'route', boundTo: 'sign-in', expired: false },
      'example',
      { ...people, callerId: p.identityId },
    )
    const signedIn = await api.oauth.token({ code: first.code, code_verifier: first.verifier })
    if (signedIn.status !== 200) throw new Error(`the first provider sign-in failed: ${signedIn.status} ${JSON.stringify(signedIn.body)}`)
    const { identityId } = await getApp().tokens.verifyAccessToken(signedIn.body.data.access_token)
    const identity = await getApp().identities.findById(identityId)
    const { linked } = await federated().list(identityId)
    const [only] = linked
    if (!identity || !only) throw new Error('the provider sign-in created no identity, or no link')
    const [row] = await getApp().sql<{ subject: string }[]>`select subject from attune.federated_identity where id = ${only.id}`
    passwordless = {
      user: { identityId, login: identity.login, password: '' },
      hasPassword: false,
      baseline: [{ id: only.id, provider: only.provider, subject: row?.subject ?? '' }],
    }
    await Promise.all([closeSessions(password.user), closeSessions(passwordless.user), closeSessions(stranger), closeSessions(withTotp)])
  })

  afterAll(async () => {
    await stand?.close()
    if (!process.env['FUZZ_RUNS']) return
    for (const [name, tally] of tallies) console.log(`fuzz ${name}: ${tally.total} cases — ${tally}\n  reasons: ${tally.reasonsToString()}`)
  })

  const callerOf = (name: CallerName): Caller => (name === 'password' ? password : passwordless)
  const peopleFor = (caller: Caller): MintPeople => ({ ...people, callerId: caller.user.identityId })

  /** Puts the caller's links back as they were before the case (a finished link removed, an unlinked one restored). */
  async function settle(caller: Caller): Promise<void> {
    const { linked } = await federated().list(caller.user.identityId)
    for (const link of linked) {
      if (!caller.baseline.some((b) => b.id === link.id)) await getApp().sql`delete from attune.federated_identity where id = ${link.id}`
    }
    for (const b of caller.baseline) {
      if (!linked.some((link) => link.id === b.id)) await linkAccount(caller.user.identityId, b.provider, b.subject, b.id)
    }
    await Promise.all([closeSessions(caller.user), closeSessions(stranger)])
  }

  /** Runs the property over `arbitrary`; `runCase` sends one case and checks its answer. */
  async function property<T>(name: string, arbitrary: fc.Arbitrary<T>, runCase: (input: T, tally: StatusTally) => Promise<void>) {
    const tally = new StatusTally()
    tallies.set(name, tally)
    await fc.assert(
      fc.asyncProperty(arbitrary, (input) => runCase(input, tally)),
      { numRuns: settings.numRuns, ...(settings.seed === undefined ? {} : { seed: settings.seed }) },
    )
    expect(tally.total).toBeGreaterThanOrEqual(settings.numRuns)
    return tally
  }

  /**
   * Expects the cases to have reached each of these (`302 code`; `reason:oauth_code_invalid`; a list: any of them),
   * so that the handlers' real paths ran, up to a success and to their own refusals, not only the schema's.
   */
  function expectReached(tally: StatusTally, wanted: Array<string | string[]>): void {
    if (settings.numRuns < ENOUGH_TO_REACH) return
    const count = (what: string): number =>
      what.startsWith('reason:') ? tally.countReason(what.slice('reason:'.length)) : (tally.counts.get(what) ?? 0)
    for (const what of wanted) {
      const anyOf = typeof what === 'string' ? [what] : what
      const n = anyOf.reduce((sum, one) => sum + count(one), 0)
      expect(n, `${anyOf.join(' or ')} never reached: ${tally}; ${tally.reasonsToString()}`).toBeGreaterThan(0)
    }
  }

  it(
    'GET /auth/oauth/{provider}/authorize answers any generated provider, query, headers and Authorization with a 302 to the provider or a 4xx {error, code, reason}, never a 5xx (but down’s 503) or internals',
    async () => {
      const documented = ROUTES.authorize
      const request = fc.record({
        provider: startProvider,
        query: authorizeQuery,
        headers,
        body: body(noBodyFields),
        auth: fc.option(authorization, { freq: 8 }),
      })
      const seen = await property('authorize', request, async ({ provider, query, headers: h, body: b, auth }, tally) => {
        const ctx = new CaseContext(password.user)
        try {
          const { target, params } = aimed(documented, 'provider', provider)
          const generated: GeneratedRequest = { headers: h, body: b, pathParameters: params, query, ...(auth === null ? {} : { auth }) }
          const answer = await send(target, generated, ctx)
          const canStart = startable(query)
          if (answer.status === 302) {
            const url = checkRedirect(target, answer)
            if (!isWorking(provider) || !canStart) throw new Error(`a 302 to ${url.href} for ${JSON.stringify({ provider, query })}`)
            checkAuthorizationUrl(url, provider, stand, query?.['code_challenge'])
            tally.add(302, { code: 'to-provider' })
          } else if (answer.status === 503 && provider === DOWN_PROVIDER && canStart) {
            const { status, body: checked } = checkUnavailable(target, answer)
            tally.add(status, checked)
          } else {
            const { status, body: checked } = checkAnswer(target, answer)
            tally.add(status, checked)
            // A valid start for a provider that answers is never refused.
            if (canStart && isWorking(provider)) throw new Error(`a valid start answered ${status}: ${answer.raw}`)
            if (
              (checked as { reason?: string }).reason === 'redirect_uri_not_allowed' &&
              ALLOWED_REDIRECT_URIS.includes(query?.['redirect_uri'] ?? '')
            )
              throw new Error(`an allowed redirect_uri refused: ${JSON.stringify(query)}`)
          }
        } finally {
          await closeSessions(password.user)
        }
      })
      expectReached(seen, [
        '302 to-provider',
        '503 SERVICE_UNAVAILABLE',
        ['reason:redirect_uri_not_allowed', 'reason:oauth_provider_unknown'],
      ])
    },
    settings.timeout,
  )

  it(
    'GET /auth/oauth/{provider}/callback answers any generated provider, query, headers and Authorization with a 302 back to the client or a 4xx {error, code, reason}, never a 5xx or internals',
    async () => {
      const documented = ROUTES.callback
      const request = fc.record({
        flow: flowChoice,
        provider: fc.oneof({ weight: 12, arbitrary: fc.constant<'flow'>('flow') }, { weight: 3, arbitrary: providerName }),
        query: callbackQuery,
        headers,
        body: body(noBodyFields),
        auth: fc.option(authorization, { freq: 8 }),
      })
      const seen = await property(
        'callback',
        request,
        async ({ flow: choice, provider: pathChoice, query: entries, headers: h, body: b, auth }, tally) => {
          const ctx = new CaseContext(password.user)
          try {
            // The sign-in the callback answers for: started by a real authorize, then (mostly) signed in at the provider.
            let flow: { state: string; code: string | undefined; live: boolean } | undefined
            if (choice.kind !== 'none') {
              const { challenge } = pkcePair()
              const start = await api.oauth.authorize(choice.provider, {
                redirect_uri: choice.redirectUri,
                code_challenge: challenge,
                code_challenge_method: 'S256',
                ...(choice.clientState === undefined ? {} : { state: choice.clientState }),
              })
              const location = String(start.headers['Location'] ?? '')
              const state = new URL(location).searchParams.get('state') ?? ''
              let code: string | undefined
              if (choice.kind === 'answered') {
                const back = await signInAtProvider(location, stand.user, callbackOf(choice.provider))
                code = back.searchParams.get('code') ?? undefined
                if (back.searchParams.get('state') !== state || back.searchParams.get('iss') !== stand.provider.issuer)
                  throw new Error(`the provider answered ${back.href}`)
              }
              if (choice.kind === 'expired')
                await getApp()
                  .sql`update attune.oauth_flow set expires = now() - interval '1 second' where state_hash = ${Buffer.from(secretHash(state))}`
              flow = { state, code, live: choice.kind !== 'expired' }
            }
            const made = { state: flow?.state ?? pkcePair().challenge, code: flow?.code ?? 'a-code-the-provider-never-issued' }
            const resolve = (value: CallbackValue): string | undefined => {
              if ('absent' in value) return undefined
              if ('text' in value) return value.text
              switch (value.live) {
                case 'state':
                  return made.state
                case 'alteredState':
                  return altered(made.state)
                case 'code':
                  return made.code
                case 'alteredCode':
                  return altered(made.code)
                case 'iss':
                  return stand.provider.issuer
              }
            }
            const query = queryOf(entries.map(([key, value]): [string, string | undefined] => [key, resolve(value)]))
            const provider = pathChoice === 'flow' ? (choice.kind === 'none' ? 'example' : choice.provider) : pathChoice
            const { target, params } = aimed(documented, 'provider', provider)
            const generated: GeneratedRequest = { headers: h, body: b, pathParameters: params, query, ...(auth === null ? {} : { auth }) }
            const answer = await send(target, generated, ctx)

            const sent = query ?? {}
            const fitting = Object.values(sent).every((value) => value.length <= 4096)
            const takesFlow = choice.kind !== 'none' && flow?.live === true && provider === choice.provider && sent['state'] === flow.state
            let gotCode = false
            if (answer.status === 302) {
              const url = checkRedirect(target, answer)
              if (choice.kind === 'none' || !takesFlow)
                throw new Error(`a 302 to ${url.href} without the live state of a sign-in: ${JSON.stringify(sent)}`)
              const location = String(answer.headers['Location'])
              const back = Object.fromEntries(url.searchParams)
              const { code, error, state, ...others } = back
              const problems = [
                location.split('?')[0] === choice.redirectUri ? undefined : `not back to the client’s redirect_uri ${choice.redirectUri}`,
                state === choice.clientState ? undefined : `state ${state} is not the client’s ${choice.clientState}`,
                Object.keys(others).length === 0 ? undefined : `other parameters ${Object.keys(others).join(', ')}`,
                (code === undefined) !== (error === undefined) ? undefined : 'not exactly one of code and error',
                code === undefined || /^[A-Za-z0-9_-]{43}$/.test(code) ? undefined : `code ${code}`,
                error === undefined || error === 'access_denied' || error === 'temporarily_unavailable' ? undefined : `error ${error}`,
                // A code only for the provider's own answer: its code, its issuer (RFC 9207), no error.
                code === undefined ||
                (flow?.code !== undefined && sent['code'] === flow.code && sent['iss'] === stand.provider.issuer && !sent['error'])
                  ? undefined
                  : 'a code for an answer that is not the provider’s',
              ].filter((problem) => problem !== undefined)
              if (problems.length > 0) throw new Error(`302 to ${location}: ${problems.join('; ')} (sent ${JSON.stringify(sent)})`)
              gotCode = code !== undefined
              tally.add(302, { code: code === undefined ? error : 'code' })
            } else {
              const { status, body: checked } = checkAnswer(target, withoutEchoedName(answer, Object.keys(sent)))
              tally.add(status, checked)
              if (takesFlow && fitting)
                throw new Error(`the live state of a sign-in answered ${status}: ${answer.raw} (sent ${JSON.stringify(sent)})`)
            }
            // The provider's own answer, untouched: a code.
            const untouched =
              choice.kind === 'answered' &&
              takesFlow &&
              entries.every(([key, value]) =>
                key === 'state' || key === 'code' || key === 'iss'
                  ? 'live' in value && !value.live.startsWith('altered')
                  : 'absent' in value,
              )
            if (untouched && !gotCode)
              throw new Error(
                `the provider's own answer gave no code: ${answer.status} ${String(answer.headers['Location'] ?? answer.raw)}`,
              )
          } finally {
            await closeSessions(password.user)
          }
        },
      )
      expectReached(seen, ['302 code', '302 access_denied', 'reason:oauth_state_invalid'])
    },
    settings.timeout,
  )

  it(
    'POST /auth/oauth/token answers any generated body, headers and Authorization with a 200 {data} or a 4xx {error, code, reason}, never a 5xx or internals',
    async () => {
      const documented = ROUTES.token
      const request = fc.record({
        mint: mintChoice({ signIn: 14, caller: 1, stranger: 1 }),
        headers,
        body: tokenBody,
        auth: fc.option(authorization, { freq: 8 }),
      })
      const seen = await property('token', request, async ({ mint, headers: h, body: b, auth }, tally) => {
        const oauthCase = new OAuthCase(mint, 'example', peopleFor(password))
        const ctx = new CaseContext(password.user, oauthCase.resolve)
        try {
          const answer = await send(documented, { headers: h, body: b, ...(auth === null ? {} : { auth }) }, ctx)
          const { status, body: checked } = checkAnswer(documented, answer)
          tally.add(status, checked)
          const minted = await oauthCase.minted
          const right = redeemsRightly(received(answer), minted) && mint.boundTo === 'sign-in' && !mint.expired
          if (status === 200) {
            if (!right)
              throw new Error(`a 200 without a live sign-in code and its verifier: ${JSON.stringify({ mint, sent: answer.sent })}`)
            const data = (checked as { data: Record<string, unknown> }).data
            if ('mfa_required' in data && !(mint.account === 'second-factor' && minted?.provider === 'example'))
              throw new Error(`mfa_required for an account without a second factor: ${JSON.stringify(mint)}`)
          }
          const reason = (checked as { reason?: string }).reason
          if (right && (reason === 'oauth_code_invalid' || reason === 'invalid_field'))
            throw new Error(`a live sign-in code with its verifier refused (${reason}): ${JSON.stringify({ mint, sent: answer.sent })}`)
        } finally {
          await closeSessions(password.user)
          await closeSessions(stranger)
        }
      })
      expectReached(seen, ['200 data', ['reason:oauth_code_invalid', 'reason:account_exists_link_required']])
    },
    settings.timeout,
  )

  it(
    'POST /auth/identities/{provider}/link answers any generated Authorization, provider, body and headers with a 200 {data} or a 4xx {error, code, reason}, never a 5xx (but down’s 503) or internals',
    async () => {
      const documented = ROUTES.link
      const request = fc.record({
        // The identity without a password has a link on `example` already: most of its finishes are 409s.
        caller: fc.oneof(
          { weight: 3, arbitrary: fc.constant<CallerName>('password') },
          { weight: 1, arbitrary: fc.constant<CallerName>('passwordless') },
        ),
        provider: startProvider,
        mint: mintChoice({ signIn: 1, caller: 14, stranger: 1 }, 16),
        headers,
        body: linkBody,
        auth: authorization,
        stale: staleSignIn,
      })
      const seen = await property('link', request, async ({ caller: who, provider, mint, headers: h, body: b, auth, stale }, tally) => {
        const caller = callerOf(who)
        const oauthCase = new OAuthCase(mint, provider ?? 'example', peopleFor(caller))
        const ctx = new CaseContext(caller.user, oauthCase.resolve)
        try {
          if (stale) {
            const { sessionId } = await ctx.session()
            await getApp().sql`update attune.session set auth_time = now() - interval '10 minutes' where id = ${sessionId}`
          }
          const { target, params } = aimed(documented, 'provider', provider)
          const answer = await send(target, { headers: h, body: b, auth, pathParameters: params }, ctx)
          const sent = received(answer)
          const onlyKeys = (...names: string[]): boolean => sent !== undefined && Object.keys(sent).every((key) => names.includes(key))
          const isStart =
            sent !== undefined && startable(sent) && onlyKeys('redirect_uri', 'code_challenge', 'code_challenge_method', 'state')
          if (answer.status === 503 && provider === DOWN_PROVIDER && isStart && !stale) {
            const { status, body: checked } = checkUnavailable(target, answer)
            tally.add(status, checked)
            return
          }
          const { status, body: checked } = checkAnswer(target, answer)
          if (status !== 200) tally.add(status, checked)
          const reason = (checked as { reason?: string }).reason
          const minted = await oauthCase.minted
          const rightFinish =
            redeemsRightly(sent, minted) &&
            onlyKeys('code', 'code_verifier') &&
            mint.boundTo === 'caller' &&
            !mint.expired &&
            minted?.provider === provider &&
            isConfigured(provider)
          if (status === 200) {
            const data = (checked as { data: Record<string, unknown> }).data
            if ('authorization_url' in data) {
              if (!isStart || !isWorking(provider) || stale)
                throw new Error(`a link started for ${JSON.stringify({ provider, sent, stale })}`)
              checkAuthorizationUrl(new URL(String(data['authorization_url'])), provider, stand, sent?.['code_challenge'])
              tally.add(200, { code: 'started' })
            } else {
              if (!rightFinish)
                throw new Error(`a link finished without a live link code and its verifier: ${JSON.stringify({ mint, provider, sent })}`)
              if (data['provider'] !== provider) throw new Error(`a link of ${provider} answered ${JSON.stringify(data)}`)
              tally.add(200, { code: 'linked' })
            }
          }
          if (rightFinish && (reason === 'oauth_code_invalid' || reason === 'invalid_field' || reason === 'oauth_provider_unknown'))
            throw new Error(`a live link code with its verifier refused (${reason}): ${JSON.stringify({ mint, provider, sent })}`)
          // The handler's own refusals of a valid start for a provider that answers, from a recent sign-in.
          if (
            isStart &&
            isWorking(provider) &&
            !stale &&
            ['invalid_field', 'redirect_uri_not_allowed', 'oauth_provider_unknown', 'step_up_required'].includes(reason ?? '')
          )
            throw new Error(`a valid start refused (${reason}): ${JSON.stringify({ provider, sent })}`)
          if (reason === 'step_up_required' && !stale) throw new Error('a recent sign-in asked to step up')
          if (reason === 'redirect_uri_not_allowed' && ALLOWED_REDIRECT_URIS.includes(String(sent?.['redirect_uri'])))
            throw new Error(`an allowed redirect_uri refused: ${JSON.stringify(sent)}`)
        } finally {
          await settle(caller)
        }
      })
      expectReached(seen, [
        '200 started',
        '200 linked',
        [
          'reason:oauth_code_invalid',
          'reason:step_up_required',
          'reason:identity_already_linked',
          'reason:redirect_uri_not_allowed',
          'reason:oauth_provider_unknown',
        ],
      ])
    },
    settings.timeout,
  )

  it(
    'GET /auth/identities answers any generated Authorization, body and headers with a 200 {data} or a 4xx {error, code, reason}, never a 5xx or internals',
    async () => {
      const documented = ROUTES.list
      const request = fc.record({ caller: callerName, extraLink: fc.boolean(), headers, body: body(noBodyFields), auth: authorization })
      const seen = await property('list', request, async ({ caller: who, extraLink, headers: h, body: b, auth }, tally) => {
        const caller = callerOf(who)
        const ctx = new CaseContext(caller.user)
        try {
          const links = caller.baseline.map((link) => link.id)
          if (extraLink) links.push(await linkAccount(caller.user.identityId, 'other', freshSubject()))
          const answer = await send(documented, { headers: h, body: b, auth }, ctx)
          const { status, body: checked } = checkAnswer(documented, answer)
          tally.add(status, checked)
          if (status === 200) {
            const data = (checked as { data: { identities: Array<{ id: string }>; has_password: boolean } }).data
            const listed = data.identities.map((link) => link.id)
            if (JSON.stringify([...listed].sort()) !== JSON.stringify([...links].sort()) || data.has_password !== caller.hasPassword)
              throw new Error(`listed ${JSON.stringify(data)}, not the caller's links ${JSON.stringify(links)}`)
          }
        } finally {
          await settle(caller)
        }
      })
      expectReached(seen, ['200 data'])
    },
    settings.timeout,
  )

  it(
    'DELETE /auth/identities/{id} answers any generated Authorization, link id, body and headers with a 200 {data} or a 4xx {error, code, reason}, never a 5xx or internals',
    async () => {
      const documented = ROUTES.unlink
      const request = fc.record({
        caller: callerName,
        extraLink: fc.oneof({ weight: 3, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
        id: linkIdChoice,
        headers,
        body: body(noBodyFields),
        auth: authorization,
        stale: staleSignIn,
      })
      const seen = await property(
        'unlink',
        request,
        async ({ caller: who, extraLink, id: choice, headers: h, body: b, auth, stale }, tally) => {
          const caller = callerOf(who)
          const ctx = new CaseContext(caller.user)
          try {
            const links = caller.baseline.map((link) => link.id)
            const extra = extraLink ? await linkAccount(caller.user.identityId, 'other', freshSubject()) : undefined
            if (extra) links.push(extra)
            if (stale) {
              const { sessionId } = await ctx.session()
              await getApp().sql`update attune.session set auth_time = now() - interval '10 minutes' where id = ${sessionId}`
            }
            const id = linkIdFor(choice, extra, caller, strangerLink)
            const { target, params } = aimed(documented, 'id', id)
            const answer = await send(target, { headers: h, body: b, auth, pathParameters: params }, ctx)
            const { status, body: checked } = checkAnswer(target, answer)
            tally.add(status, checked)
            const own = id !== undefined && links.includes(id.toLowerCase())
            if (status === 200 && (!own || stale || (!caller.hasPassword && links.length < 2)))
              throw new Error(`unlinked ${id}: ${JSON.stringify({ links, stale, hasPassword: caller.hasPassword })}`)
            const reason = (checked as { reason?: string }).reason
            if (reason === 'last_way_in' && (caller.hasPassword || links.length > 1 || !own))
              throw new Error(`last_way_in for ${id}: ${JSON.stringify({ links, hasPassword: caller.hasPassword })}`)
            if (reason === 'linked_identity_not_found' && own) throw new Error(`the caller's own link ${id} not found`)
            if (reason === 'step_up_required' && !stale) throw new Error('a recent sign-in asked to step up')
          } finally {
            await settle(caller)
          }
        },
      )
      expectReached(seen, ['200 data', ['reason:last_way_in', 'reason:linked_identity_not_found', 'reason:step_up_required']])
    },
    settings.timeout,
  )
})

/** The link id a choice names for the caller (undefined: no path parameter). */
function linkIdFor(choice: LinkIdChoice, extra: string | undefined, caller: Caller, strangerLink: string): string | undefined {
  switch (choice.kind) {
    case 'extra': {
      const id = extra ?? caller.baseline[0]?.id ?? strangerLink
      return choice.upper ? id.toUpperCase() : id
    }
    case 'baseline':
      return caller.baseline[0]?.id ?? strangerLink
    case 'stranger':
      return strangerLink
    case 'unknown':
    case 'junk':
      return choice.id
    case 'absent':
      return undefined
  }
}
