/**
 * The provider sign-in routes' generated inputs (tests/integration/property/oauth-endpoints.test.ts), the stand
 * they run against, and the checks of their answers beyond tests/support/fuzz/check.ts's.
 *
 * The stand: the real local OpenID provider (infra/local/oidc-provider.ts) with two clients, the providers
 * `example` and `other` on it, and `down`, whose issuer is a closed port (its discovery fails: authorize and a
 * link's start answer 503 there, and only there). The environment is set before the file's first handler call,
 * as a deployed function's would be.
 *
 * The values are mostly plausible, so the handlers' real paths run to a success: the allowed redirect URIs
 * (and near misses: prefixes, letter case, fragments, look-alike hosts), S256 challenges, real states of real
 * authorizations (some answered by the provider, with its real code and `iss`), one-time codes minted straight in
 * the repository with a known verifier (`oauthCode`, `codeVerifier`...: refs resolved by OAuthCase), provider
 * names configured, unknown or odd, link ids of the caller, of another identity, unknown or junk.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto'
import { REASONS } from '@attune-auth/client'
import { UUID } from '@attune-auth/client/ids'
import fc from 'fast-check'
import type { LocalOidcProvider, LocalOidcUser } from '../../../infra/local/oidc-provider.js'
import { startLocalOidcProvider } from '../../../infra/local/oidc-provider.js'
import { freePort } from '../../../infra/local/ports.js'
import { getApp } from '../../../lib/app.js'
import type { FederatedIdentityRepository, ProvenAccount } from '../../../lib/db/federated-identities.js'
import { createFederatedIdentityRepository } from '../../../lib/db/federated-identities.js'
import { secretHash } from '../../../lib/oauth/accounts.js'
import { OAUTH_CODE_TTL_SECONDS } from '../../../lib/oauth/settings.js'
import { expectMatchesOpenApi } from '../openapi.js'
import type { GeneratedBody } from './bodies.js'
import { Ref, type RefName, type Resolver } from './refs.js'
import type { Answer, Route } from './send.js'
import { RUN_TAG, weirdString } from './values.js'

/** Where the harness's own links come from (their audit events say so). */
const FUZZ_ORIGIN = { requestId: null, userAgent: 'fuzz', sourceIp: null }

// --- The stand ---------------------------------------------------------------------------------------------

export const PUBLIC_URL = 'https://auth.attune.test'
export const APP = 'https://app.attune.test/auth/callback'
export const NATIVE_APP = 'com.attune.app:/oauth'
export const ALLOWED_REDIRECT_URIS: readonly string[] = [APP, NATIVE_APP]

/** The providers on the local OpenID provider; `down` is configured too, but nobody answers for it. */
export const WORKING_PROVIDERS = ['example', 'other'] as const
export type WorkingProvider = (typeof WORKING_PROVIDERS)[number]
export const DOWN_PROVIDER = 'down'

export const callbackOf = (provider: string): string => `${PUBLIC_URL}/auth/oauth/${provider}/callback`

const OAUTH_VARIABLES = [
  'OAUTH_PROVIDERS',
  ...['EXAMPLE', 'OTHER', 'DOWN'].flatMap((p) => [`OAUTH_${p}_ISSUER`, `OAUTH_${p}_CLIENT_ID`, `OAUTH_${p}_CLIENT_SECRET`]),
  'OAUTH_ALLOWED_REDIRECT_URIS',
  'OAUTH_PUBLIC_URL',
]

export interface OAuthStand {
  provider: LocalOidcProvider
  clientIds: Record<WorkingProvider, string>
  /** The provider account the browser signs in as at the provider (callback cases). */
  user: LocalOidcUser
  close(): Promise<void>
}

/**
 * Starts the local provider and sets OAUTH_* (read at the first handler call of the file: call it in beforeAll
 * before any handler); `close` stops it and removes them.
 */
export async function startOAuthStand(): Promise<OAuthStand> {
  const clients = Object.fromEntries(
    WORKING_PROVIDERS.map((name) => [name, { clientId: `attune-fuzz-${name}`, clientSecret: `${name}-secret-${randomUUID()}` }]),
  ) as Record<WorkingProvider, { clientId: string; clientSecret: string }>
  const user: LocalOidcUser = {
    login: `fuzz-${RUN_TAG}`,
    password: `pw-${randomUUID()}`,
    subject: `fuzz-browser-${RUN_TAG}`,
    email: `fuzz-browser-${RUN_TAG}@provider.attune.test`,
    emailVerified: true,
    name: 'Fuzz Browser',
  }
  const provider = await startLocalOidcProvider({
    port: 0,
    clients: WORKING_PROVIDERS.map((name) => ({ ...clients[name], redirectUris: [callbackOf(name)] })),
    users: [user],
  })
  Object.assign(process.env, {
    OAUTH_PROVIDERS: [...WORKING_PROVIDERS, DOWN_PROVIDER].join(','),
    ...Object.fromEntries(
      WORKING_PROVIDERS.flatMap((name) => {
        const p = name.toUpperCase()
        return [
          [`OAUTH_${p}_ISSUER`, provider.issuer],
          [`OAUTH_${p}_CLIENT_ID`, clients[name].clientId],
          [`OAUTH_${p}_CLIENT_SECRET`, clients[name].clientSecret],
        ]
      }),
    ),
    OAUTH_DOWN_ISSUER: `http://127.0.0.1:${await freePort()}`,
    OAUTH_DOWN_CLIENT_ID: 'down',
    OAUTH_DOWN_CLIENT_SECRET: 'down-secret',
    OAUTH_ALLOWED_REDIRECT_URIS: ALLOWED_REDIRECT_URIS.join(', '),
    OAUTH_PUBLIC_URL: PUBLIC_URL,
  })
  return {
    provider,
    clientIds: { example: clients.example.clientId, other: clients.other.clientId },
    user,
    async close() {
      for (const name of OAUTH_VARIABLES) delete process.env[name]
      await provider.close()
    },
  }
}

let repository: FederatedIdentityRepository | undefined
/** The repository the handlers use, for the harness's own links and one-time codes. */
export function federated(): FederatedIdentityRepository {
  const app = getApp()
  repository ??= createFederatedIdentityRepository(app.sql, app.config.sessions)
  return repository
}

let subjects = 0
/** A provider account nobody has signed in with yet. */
export const freshSubject = (): string => `fuzz-${RUN_TAG}-${++subjects}`

/** Links a provider account to `identityId` (as a finished link would), answering the link's id. */
export async function linkAccount(identityId: number, provider: string, subject: string, id: string = randomUUID()): Promise<string> {
  const account: ProvenAccount = { provider, subject, email: null, emailVerified: false, name: null }
  return (await federated().link(identityId, id, account, FUZZ_ORIGIN, false)).id
}

/** A client's PKCE pair (RFC 7636 S256), its verifier 43 to 128 characters. */
export function pkcePair(verifierBytes = 32): { verifier: string; challenge: string } {
  const verifier = randomBytes(verifierBytes).toString('base64url')
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') }
}

/** A random 43-character base64url secret: what a state, a one-time code or a challenge looks like. */
const secretLike = (): string => randomBytes(32).toString('base64url')
const SECRET = /^[A-Za-z0-9_-]{43}$/

// --- Values ------------------------------------------------------------------------------------------------

/** The `{provider}` of a route (undefined: no path parameter). */
export const providerName: fc.Arbitrary<string | undefined> = fc.oneof(
  { weight: 16, arbitrary: fc.constant('example') },
  { weight: 3, arbitrary: fc.constant('other') },
  { weight: 2, arbitrary: fc.constant(DOWN_PROVIDER) },
  // names a provider could have, none configured
  { weight: 1, arbitrary: fc.constantFrom('nobody', 'github', 'google', 'a'.repeat(32), 'example-2', 'x') },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      'EXAMPLE',
      'Example',
      ' example',
      'example ',
      'example\u0000',
      'exam\u200Bple',
      'éxample',
      'ｅxample',
      '../x',
      '..',
      'example/../other',
      'example%2F',
      'example.',
      'a'.repeat(33),
      '1example',
      '-example',
      '',
      '__proto__',
      'constructor',
    ),
  },
  { weight: 1, arbitrary: weirdString },
  { weight: 1, arbitrary: fc.constant(undefined) },
)

const REDIRECT_TRICKS = [
  `${APP}x`,
  `${APP}/`,
  `${APP}/../evil`,
  `${APP}?next=https://evil.test`,
  `${APP}?`,
  `${APP}#`,
  `${APP}#frag`,
  ` ${APP}`,
  `${APP} `,
  `${APP}\u0000`,
  `${APP}%00`,
  `${APP},${NATIVE_APP}`,
  'https://APP.attune.test/auth/callback',
  'HTTPS://app.attune.test/auth/callback',
  'https://app.attune.test/auth/Callback',
  'https://app.attune.test/auth/%63allback',
  'https://app.attune.test:443/auth/callback',
  'https://app.attune.test./auth/callback',
  'https://app.attune.test.evil.test/auth/callback',
  'https://app.attune.test:443@evil.test/auth/callback',
  'https://evil.test@app.attune.test/auth/callback',
  'http://app.attune.test/auth/callback',
  '//app.attune.test/auth/callback',
  'https://app.attune.test/auth',
  'https://app.attune.test',
  `${NATIVE_APP}/more`,
  'com.attune.app:/OAUTH',
  'COM.ATTUNE.APP:/oauth',
  'com.attune.app://oauth',
  'javascript:alert(1)',
  'data:text/html,<script>alert(1)</script>',
  '/auth/callback',
  PUBLIC_URL,
  callbackOf('example'),
]

/** redirect_uri: mostly one allowed exactly, else a near miss, junk or the 2048-character bound. */
export const redirectUriValue: fc.Arbitrary<string> = fc.oneof(
  { weight: 14, arbitrary: fc.constantFrom(...ALLOWED_REDIRECT_URIS) },
  { weight: 4, arbitrary: fc.constantFrom(...REDIRECT_TRICKS) },
  { weight: 1, arbitrary: fc.constantFrom(2048, 2049).map((n) => `${APP}?${'x'.repeat(n - APP.length - 1)}`) },
  { weight: 1, arbitrary: weirdString },
)

const base64url = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64url')

/** code_challenge: mostly an S256 challenge (43 base64url characters), else a near miss or junk. */
export const challengeValue: fc.Arbitrary<string> = fc.oneof(
  { weight: 14, arbitrary: fc.uint8Array({ minLength: 32, maxLength: 32 }).map(base64url) },
  {
    weight: 3,
    arbitrary: fc.oneof(
      // 42 and 44 characters, with base64's padding or alphabet, hex, a verifier-length string
      fc.uint8Array({ minLength: 33, maxLength: 33 }).map((b) => base64url(b).slice(0, 42)),
      fc.uint8Array({ minLength: 33, maxLength: 33 }).map((b) => base64url(b)),
      fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => Buffer.from(b).toString('base64')),
      fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => Buffer.from(b).toString('hex')),
      fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => ` ${base64url(b)}`),
      fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => `${base64url(b).slice(0, 42)}.`),
      fc.constantFrom('', 'plain', 'A'.repeat(43), '-'.repeat(43), `${'A'.repeat(42)}\u0000`, `${'A'.repeat(42)}é`),
    ),
  },
  { weight: 1, arbitrary: weirdString },
)

/** code_challenge_method: mostly S256, else what some clients send instead. */
export const challengeMethodValue: fc.Arbitrary<string> = fc.oneof(
  { weight: 16, arbitrary: fc.constant('S256') },
  { weight: 3, arbitrary: fc.constantFrom('plain', 's256', 'S256 ', ' S256', 'SHA256', 'SHA-256', 'S512', 'S256\u0000', 'Ｓ256', '') },
  { weight: 1, arbitrary: weirdString },
)

/** The client's own `state`: absent, printable ASCII (up to the 512 bound and one past), or not. */
export const clientStateValue: fc.Arbitrary<string | undefined> = fc.oneof(
  { weight: 6, arbitrary: fc.constant(undefined) },
  { weight: 6, arbitrary: fc.stringMatching(/^[!-~]{0,40}$/) },
  { weight: 1, arbitrary: fc.constantFrom(512, 513).map((n) => '~'.repeat(n)) },
  { weight: 1, arbitrary: fc.constantFrom('a b', 'state\t', 'é', 'state\u0000', '\u{1F600}', '%20', '<script>', '"', "'") },
  { weight: 1, arbitrary: weirdString },
)

/** Parameters a client or a proxy adds, with names near the real ones. */
const extraParameters = (names: string[]): fc.Arbitrary<Array<[string, string]>> =>
  fc.oneof(
    { weight: 6, arbitrary: fc.constant<Array<[string, string]>>([]) },
    {
      weight: 1,
      arbitrary: fc.array(
        fc.tuple(
          fc.oneof(
            fc.string({ maxLength: 12 }),
            fc.constantFrom(
              '__proto__',
              'constructor',
              'toString',
              'hasOwnProperty',
              ...names.map((n) => n.toUpperCase()),
              ...names.map((n) => `${n}[]`),
              ...names.map((n) => ` ${n}`),
            ),
          ),
          weirdString,
        ),
        { maxLength: 3 },
      ),
    },
  )

/** `value`, or (rarely) absent. */
const mostly = <T>(value: fc.Arbitrary<T>, present = 30): fc.Arbitrary<T | undefined> =>
  fc.oneof({ weight: present, arbitrary: value }, { weight: 1, arbitrary: fc.constant(undefined) })

/** A query string as API Gateway passes it: own properties whatever the names, null when there is none. */
export function queryOf(entries: Array<[string, string | undefined]>): Record<string, string> | null {
  const present = entries.filter((entry): entry is [string, string] => entry[1] !== undefined)
  return present.length === 0 ? null : Object.fromEntries(present)
}

/** GET /auth/oauth/{provider}/authorize's query (null: none at all). */
export const authorizeQuery: fc.Arbitrary<Record<string, string> | null> = fc.oneof(
  { weight: 1, arbitrary: fc.constant(null) },
  {
    weight: 30,
    arbitrary: fc
      .record({
        redirect_uri: mostly(redirectUriValue),
        code_challenge: mostly(challengeValue),
        code_challenge_method: mostly(challengeMethodValue),
        state: clientStateValue,
        extra: extraParameters(['redirect_uri', 'code_challenge', 'code_challenge_method', 'state']),
      })
      .map(({ extra, ...known }) => queryOf([...Object.entries(known), ...extra])),
  },
)

// --- The callback --------------------------------------------------------------------------------------------

/**
 * The sign-in a callback case answers for: none, one started by a real authorize (never at the provider), one
 * the provider answered (the browser signed in there: a real code and `iss`), or one that expired.
 */
export type FlowChoice =
  | { kind: 'none' }
  | { kind: 'started' | 'answered' | 'expired'; provider: WorkingProvider; redirectUri: string; clientState: string | undefined }

export const flowChoice: fc.Arbitrary<FlowChoice> = fc.oneof(
  { weight: 2, arbitrary: fc.constant<FlowChoice>({ kind: 'none' }) },
  {
    weight: 14,
    arbitrary: fc
      .record({
        kind: fc.oneof(
          { weight: 5, arbitrary: fc.constant('started' as const) },
          { weight: 6, arbitrary: fc.constant('answered' as const) },
          { weight: 1, arbitrary: fc.constant('expired' as const) },
        ),
        provider: fc.oneof(
          { weight: 4, arbitrary: fc.constant('example' as const) },
          { weight: 1, arbitrary: fc.constant('other' as const) },
        ),
        redirectUri: fc.constantFrom(...ALLOWED_REDIRECT_URIS),
        clientState: fc.oneof(
          { weight: 2, arbitrary: fc.constant(undefined) },
          { weight: 2, arbitrary: fc.stringMatching(/^[!-~]{1,40}$/) },
          { weight: 1, arbitrary: fc.constant('~'.repeat(512)) },
        ),
      })
      .map((flow): FlowChoice => flow),
  },
)

/** A value of the flow's (its state, the provider's code, the provider's issuer), changed or not; or text. */
export type CallbackValue = { live: 'state' | 'alteredState' | 'code' | 'alteredCode' | 'iss' } | { text: string } | { absent: true }

const live = (name: 'state' | 'alteredState' | 'code' | 'alteredCode' | 'iss'): CallbackValue => ({ live: name })
const text = (arbitrary: fc.Arbitrary<string>): fc.Arbitrary<CallbackValue> => arbitrary.map((t): CallbackValue => ({ text: t }))
const absent = fc.constant<CallbackValue>({ absent: true })

/** The callback's query: the provider's parameters, mostly as it sent them, sometimes changed, dropped or added to. */
export const callbackQuery: fc.Arbitrary<Array<[string, CallbackValue]>> = fc
  .record({
    state: fc.oneof(
      { weight: 16, arbitrary: fc.constant(live('state')) },
      { weight: 1, arbitrary: fc.constant(live('alteredState')) },
      { weight: 1, arbitrary: text(fc.uint8Array({ minLength: 32, maxLength: 32 }).map(base64url)) },
      { weight: 1, arbitrary: text(weirdString) },
      { weight: 1, arbitrary: absent },
    ),
    code: fc.oneof(
      { weight: 14, arbitrary: fc.constant(live('code')) },
      { weight: 1, arbitrary: fc.constant(live('alteredCode')) },
      {
        weight: 1,
        arbitrary: text(fc.oneof(fc.constantFrom('x', 'forged-code'), fc.uint8Array({ minLength: 32, maxLength: 32 }).map(base64url))),
      },
      { weight: 1, arbitrary: text(weirdString) },
      { weight: 2, arbitrary: absent },
    ),
    iss: fc.oneof(
      { weight: 14, arbitrary: fc.constant(live('iss')) },
      { weight: 1, arbitrary: text(fc.constantFrom('https://evil.test', PUBLIC_URL, 'http://127.0.0.1', 'null', '')) },
      { weight: 1, arbitrary: text(weirdString) },
      { weight: 2, arbitrary: absent },
    ),
    error: fc.oneof(
      { weight: 16, arbitrary: absent },
      {
        weight: 2,
        arbitrary: text(fc.constantFrom('access_denied', 'invalid_request', 'server_error', 'temporarily_unavailable', 'login_required')),
      },
      { weight: 1, arbitrary: text(weirdString) },
    ),
    error_description: fc.oneof({ weight: 12, arbitrary: absent }, { weight: 1, arbitrary: text(weirdString) }),
    extra: extraParameters(['state', 'code', 'iss', 'error', 'session_state', 'scope', 'id_token', 'response']),
  })
  .map(({ extra, ...known }) => [
    ...Object.entries(known),
    ...extra.map(([name, value]): [string, CallbackValue] => [name, { text: value }]),
  ])

/**
 * A body of `known`'s fields as most clients send it (JSON text, no extra key), mixed in with the suite's
 * generated bodies (tests/support/fuzz/bodies.ts) so that enough cases reach the handler's own checks.
 */
export function wellFormedBody(known: fc.Arbitrary<Record<string, unknown>>): fc.Arbitrary<GeneratedBody> {
  return known.map(
    (fields): GeneratedBody => ({
      payload: {
        kind: 'entries',
        entries: Object.entries(fields).filter(([, value]) => value !== undefined),
        loneSurrogatesRaw: false,
      },
      encoding: { kind: 'text' },
    }),
  )
}

/** Changes one character of a secret (in place, so its form stays right). */
export function altered(secret: string): string {
  if (secret.length === 0) return 'A'
  const at = Math.floor(secret.length / 2)
  return secret.slice(0, at) + (secret.charAt(at) === 'A' ? 'B' : 'A') + secret.slice(at + 1)
}

// --- One-time codes ----------------------------------------------------------------------------------------

/** The refs of tests/support/fuzz/refs.ts that name a case's one-time code and its PKCE pair (resolved by OAuthCase). */
export type OAuthRefName = 'oauthCode' | 'alteredOAuthCode' | 'codeVerifier' | 'otherVerifier' | 'codeChallenge'
/** refs.ts's RefName lists the base and two-factor refs: these are resolved by OAuthCase alone. */
export const oauthRef = (name: OAuthRefName): Ref => new Ref(name as unknown as RefName)

/**
 * A one-time code the case's provider sign-in produced: which provider account it proves, for which provider
 * (the route's, or another configured one), bound to a sign-in, to the caller's link or to another identity's,
 * live or expired. The code is stored straight in the repository, as the callback would store it.
 */
export interface MintChoice {
  /**
   * `fresh`: an account nobody signed in with (its address none, its own, or an existing account's);
   * `linked`: the one linked to an identity with a password; `second-factor`: the one linked to an identity
   * with TOTP on.
   */
  account: 'fresh' | 'linked' | 'second-factor'
  email: 'none' | 'own-verified' | 'own-unverified' | 'owner' | 'owner-upper' | 'owner-unverified'
  name: string | null
  provider: 'route' | 'other'
  boundTo: 'sign-in' | 'caller' | 'stranger'
  expired: boolean
}

export function mintChoice(bound: { signIn: number; caller: number; stranger: number }, fresh = 8): fc.Arbitrary<MintChoice> {
  return fc.record({
    account: fc.oneof(
      { weight: fresh, arbitrary: fc.constant('fresh' as const) },
      { weight: 2, arbitrary: fc.constant('linked' as const) },
      { weight: 2, arbitrary: fc.constant('second-factor' as const) },
    ),
    email: fc.oneof(
      { weight: 3, arbitrary: fc.constantFrom('none' as const, 'own-verified' as const, 'own-unverified' as const) },
      { weight: 1, arbitrary: fc.constantFrom('owner' as const, 'owner-upper' as const, 'owner-unverified' as const) },
    ),
    name: fc.oneof(
      { weight: 2, arbitrary: fc.constant(null) },
      { weight: 2, arbitrary: fc.constantFrom('Grace Hopper', 'Ada', '李小龍', 'Zoë Ĳsselmeer', "O'Brien; drop table x", '') },
      { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 60 }) },
    ),
    provider: fc.oneof({ weight: 6, arbitrary: fc.constant('route' as const) }, { weight: 1, arbitrary: fc.constant('other' as const) }),
    boundTo: fc.oneof(
      { weight: bound.signIn, arbitrary: fc.constant('sign-in' as const) },
      { weight: bound.caller, arbitrary: fc.constant('caller' as const) },
      { weight: bound.stranger, arbitrary: fc.constant('stranger' as const) },
    ),
    expired: fc.oneof({ weight: 10, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
  })
}

/** `code`: mostly the case's one-time code, else it changed, a made-up one, or at the 128-character bound. */
export const oauthCodeValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 16, arbitrary: fc.constant(oauthRef('oauthCode')) },
  { weight: 1, arbitrary: fc.constant(oauthRef('alteredOAuthCode')) },
  { weight: 1, arbitrary: fc.uint8Array({ minLength: 32, maxLength: 32 }).map(base64url) },
  { weight: 1, arbitrary: fc.constantFrom(128, 129).map((n) => 'A'.repeat(n)) },
)

/** `code_verifier`: mostly the verifier of the code's challenge, else another, the challenge itself, or a near miss. */
export const codeVerifierValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 16, arbitrary: fc.constant(oauthRef('codeVerifier')) },
  { weight: 2, arbitrary: fc.constantFrom(oauthRef('otherVerifier'), oauthRef('codeChallenge')) },
  {
    weight: 2,
    arbitrary: fc.oneof(
      fc.integer({ min: 43, max: 128 }).map((n) => 'a'.repeat(n)),
      fc.constantFrom(42, 129).map((n) => 'a'.repeat(n)),
      fc.uint8Array({ minLength: 32, maxLength: 96 }).map((b) => Buffer.from(b).toString('base64')),
      fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => ` ${base64url(b)}`),
      fc.constantFrom(`${'a'.repeat(42)}é`, `${'a'.repeat(43)}\u0000`, `${'a'.repeat(43)}\n`, '~'.repeat(43), '.'.repeat(128)),
    ),
  },
)

/** The people a minted code can prove, and the identities it can be bound to. */
export interface MintPeople {
  /** The identity sending the case (a link's finish binds a code to it). */
  callerId: number
  /** Another identity: a code bound to it is not the caller's. */
  strangerId: number
  /** The verified address of an existing account (a provider saying it is this address: link it first). */
  ownerEmail: string
  /** On provider `example`: linked to an identity with a password, and to one with TOTP on. */
  linkedSubject: string
  secondFactorSubject: string
}

export interface MintedCode {
  code: string
  verifier: string
  challenge: string
  provider: string
  choice: MintChoice
}

/** Stores a one-time code for `choice`, as the callback would have stored it. */
export async function mintCode(choice: MintChoice, routeProvider: string, people: MintPeople): Promise<MintedCode> {
  // A route's provider that is not configured (`nobody`, junk) makes a code of `example`'s: no callback stores another.
  const configured = [...WORKING_PROVIDERS, DOWN_PROVIDER].includes(routeProvider) ? routeProvider : 'example'
  const provider = choice.provider === 'route' ? configured : configured === 'other' ? 'example' : 'other'
  const subject =
    choice.account === 'linked' ? people.linkedSubject : choice.account === 'second-factor' ? people.secondFactorSubject : freshSubject()
  const own = `${subject}@provider.attune.test`
  const [email, emailVerified] = {
    none: [null, false] as const,
    'own-verified': [own, true] as const,
    'own-unverified': [own, false] as const,
    owner: [people.ownerEmail, true] as const,
    'owner-upper': [people.ownerEmail.toUpperCase(), true] as const,
    'owner-unverified': [people.ownerEmail, false] as const,
  }[choice.email]
  const { verifier, challenge } = pkcePair(32 + (subjects % 65))
  const code = secretLike()
  const linkIdentityId = { 'sign-in': null, caller: people.callerId, stranger: people.strangerId }[choice.boundTo]
  await federated().storeCode(
    secretHash(code),
    { provider, subject, email, emailVerified, name: choice.name, clientChallenge: challenge, linkIdentityId },
    choice.expired ? -1 : OAUTH_CODE_TTL_SECONDS,
  )
  return { code, verifier, challenge, provider, choice }
}

/** The refs of a token or link-finish case: its one-time code (minted on first use) and PKCE pair. */
export class OAuthCase {
  #minted: Promise<MintedCode> | undefined

  constructor(
    readonly mint: MintChoice,
    readonly routeProvider: string,
    readonly people: MintPeople,
  ) {}

  /** The code minted for the case (undefined: none was asked for). */
  get minted(): Promise<MintedCode> | undefined {
    return this.#minted
  }

  #code(): Promise<MintedCode> {
    this.#minted ??= mintCode(this.mint, this.routeProvider, this.people)
    return this.#minted
  }

  readonly resolve: Resolver = async (name) => {
    const ours = name as unknown as OAuthRefName
    switch (ours) {
      case 'oauthCode':
        return (await this.#code()).code
      case 'alteredOAuthCode':
        return altered((await this.#code()).code)
      case 'codeVerifier':
        return (await this.#code()).verifier
      case 'otherVerifier':
        return pkcePair().verifier
      case 'codeChallenge':
        return (await this.#code()).challenge
      default:
        throw new Error(`ref(${name}) is not a provider sign-in ref`)
    }
  }
}

// --- Link ids ------------------------------------------------------------------------------------------------

/** The `{id}` of DELETE /auth/identities/{id}. */
export type LinkIdChoice =
  /** A link the caller got for the case (on `other`), as listed or in capitals. */
  | { kind: 'extra'; upper: boolean }
  /** The link the caller had before (the one identity without a password has one; the other, none). */
  | { kind: 'baseline' }
  /** Another identity's link. */
  | { kind: 'stranger' }
  | { kind: 'unknown'; id: string }
  | { kind: 'junk'; id: string }
  | { kind: 'absent' }

export const linkIdChoice: fc.Arbitrary<LinkIdChoice> = fc.oneof(
  {
    weight: 12,
    arbitrary: fc
      .oneof({ weight: 5, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) })
      .map((upper): LinkIdChoice => ({ kind: 'extra', upper })),
  },
  { weight: 4, arbitrary: fc.constant<LinkIdChoice>({ kind: 'baseline' }) },
  { weight: 2, arbitrary: fc.constant<LinkIdChoice>({ kind: 'stranger' }) },
  {
    weight: 2,
    arbitrary: fc
      .oneof(fc.uuid(), fc.constantFrom('00000000-0000-0000-0000-000000000000', 'ffffffff-ffff-ffff-ffff-ffffffffffff'))
      .map((id): LinkIdChoice => ({ kind: 'unknown', id })),
  },
  {
    weight: 2,
    arbitrary: fc
      .oneof(
        weirdString,
        fc.uuid().map((id) => `${id} `),
        fc.uuid().map((id) => `{${id}}`),
        fc.uuid().map((id) => id.replaceAll('-', '')),
        fc.uuid().map((id) => `${id}0`),
        fc.constantFrom('1', '0x1', 'null', '../x'),
      )
      .filter((id) => !UUID.test(id.toLowerCase()))
      .map((id): LinkIdChoice => ({ kind: 'junk', id })),
  },
  { weight: 1, arbitrary: fc.constant<LinkIdChoice>({ kind: 'absent' }) },
)

// --- Checks --------------------------------------------------------------------------------------------------

/** A documented 302 (ToProvider, BackToClient): a Location, no body, never cached, no Referer. Answers the Location. */
export function checkRedirect(route: Route, answer: Answer): URL {
  const describe = (): string => `${route.method} ${route.path} answered ${answer.status}: ${answer.raw.slice(0, 300)}`
  const location = answer.headers['Location']
  if (typeof location !== 'string' || location === '') throw new Error(`a 302 without a Location; ${describe()}`)
  if (answer.raw !== '') throw new Error(`a 302 with a body; ${describe()}`)
  if (answer.headers['Cache-Control'] !== 'no-store' || answer.headers['Referrer-Policy'] !== 'no-referrer')
    throw new Error(`a 302 that may be cached or send a Referer: ${JSON.stringify(answer.headers)}; ${describe()}`)
  expectMatchesOpenApi(route.method, route.documentedPath, 302, null)
  try {
    return new URL(location)
  } catch {
    throw new Error(`the Location is not a URL: ${location}; ${describe()}`)
  }
}

/** The 503 a provider that cannot be discovered is answered with (ProviderUnavailable): exactly service_unavailable. */
export function checkUnavailable(route: Route, answer: Answer): { status: number; body: unknown } {
  const describe = (): string => `${route.method} ${route.path} answered ${answer.status}: ${answer.raw.slice(0, 300)}`
  if (!/^application\/json\b/.test(String(answer.headers['Content-Type'] ?? ''))) throw new Error(`a 503 that is not JSON; ${describe()}`)
  const body: unknown = JSON.parse(answer.raw)
  const expected = { error: REASONS.service_unavailable.message, code: 'SERVICE_UNAVAILABLE', reason: 'service_unavailable' }
  if (JSON.stringify(body) !== JSON.stringify(expected)) throw new Error(`a 503 that is not service_unavailable; ${describe()}`)
  expectMatchesOpenApi(route.method, route.documentedPath, 503, body)
  return { status: 503, body }
}

/**
 * The provider's authorization URL an authorize or a link's start sent the client to: the provider's endpoint,
 * our client, our callback, our own state, nonce and S256 challenge (never the client's). Throws otherwise.
 */
export function checkAuthorizationUrl(url: URL, provider: WorkingProvider, stand: OAuthStand, clientChallenge: unknown): void {
  const p = Object.fromEntries(url.searchParams)
  const problems = [
    `${url.origin}${url.pathname}` === `${stand.provider.issuer}/auth` ? undefined : 'not the provider’s authorization endpoint',
    p['client_id'] === stand.clientIds[provider] ? undefined : `client_id ${p['client_id']}`,
    p['redirect_uri'] === callbackOf(provider) ? undefined : `redirect_uri ${p['redirect_uri']}`,
    p['response_type'] === 'code' ? undefined : `response_type ${p['response_type']}`,
    p['code_challenge_method'] === 'S256' ? undefined : `code_challenge_method ${p['code_challenge_method']}`,
    SECRET.test(p['code_challenge'] ?? '') && p['code_challenge'] !== clientChallenge ? undefined : 'code_challenge not our own',
    SECRET.test(p['state'] ?? '') ? undefined : 'state not ours',
    SECRET.test(p['nonce'] ?? '') ? undefined : 'nonce not ours',
  ].filter((problem) => problem !== undefined)
  if (problems.length > 0) throw new Error(`authorization URL ${url.href}: ${problems.join(', ')}`)
}

/** Whether a query's redirect_uri, challenge, method and state could start a sign-in (the schema's rules). */
export function startable(input: Record<string, unknown> | null): boolean {
  if (input === null) return false
  const { redirect_uri, code_challenge, code_challenge_method, state } = input
  return (
    typeof redirect_uri === 'string' &&
    ALLOWED_REDIRECT_URIS.includes(redirect_uri) &&
    typeof code_challenge === 'string' &&
    SECRET.test(code_challenge) &&
    code_challenge_method === 'S256' &&
    (state === undefined || (typeof state === 'string' && state.length <= 512 && /^[!-~]*$/.test(state)))
  )
}
