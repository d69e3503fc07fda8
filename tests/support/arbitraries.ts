/**
 * fast-check arbitraries for hostile HTTP requests, and the harness the property tests share:
 * it turns a generated request into a real API Gateway REST event (tests/support/events.ts), sends it
 * through the real authorizer and our Gateway Response emulation for protected routes (as
 * tests/support/api.ts does), and checks the answer.
 *
 * A generated request is symbolic where it needs live values: `ref('accessToken')`, `ref('refreshToken')`,
 * `ref('currentPassword')`... are resolved when the case runs, against a session opened for that case,
 * so counterexamples stay readable and replayable.
 *
 * Most generated cases fail validation cheaply; roughly one in ten is well-formed, so the handlers'
 * real paths (Argon2, the database, token rotation) are exercised too.
 */
import { randomUUID } from 'node:crypto'
import type { Reason } from '@attune-auth/client'
import { ERROR_STATUS, REASONS } from '@attune-auth/client'
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda'
import fc from 'fast-check'
import { authorize } from '../../infra/local/offline-authorizer.js'
import { getApp } from '../../lib/app.js'
import { createSessionRules } from '../../lib/auth/sessions.js'
import type { TokenPair } from '../../lib/tokens/service.js'
import { lambdaContext, restEvent } from './events.js'
import { expectMatchesOpenApi } from './openapi.js'
import { forge } from './tokens.js'

// --- how many cases ----------------------------------------------------------------------------------

/** The endpoints fuzzed, one property each: FUZZ_RUNS (the total) is split evenly between them. */
export const FUZZED_ENDPOINTS = 8
export const DEFAULT_SEED = 20261129
const DEFAULT_RUNS_PER_ENDPOINT = 100

export interface FuzzSettings {
  numRuns: number
  seed: number | undefined
  /** The per-test timeout for one property, scaled with its number of runs. */
  timeout: number
}

/**
 * `npm test`: 100 cases per endpoint with a fixed seed. `FUZZ_RUNS=10000`: that many cases in total,
 * with a fresh seed each run (fast-check prints it with any counterexample) unless FUZZ_SEED is set.
 */
export function fuzzSettings(env: Readonly<Record<string, string | undefined>>): FuzzSettings {
  const total = Number(env['FUZZ_RUNS'])
  const numRuns = Number.isInteger(total) && total > 0 ? Math.ceil(total / FUZZED_ENDPOINTS) : DEFAULT_RUNS_PER_ENDPOINT
  const seedText = env['FUZZ_SEED']
  const seed = seedText !== undefined && seedText !== '' ? Number(seedText) : env['FUZZ_RUNS'] ? undefined : DEFAULT_SEED
  return { numRuns, seed, timeout: 30_000 + numRuns * 250 }
}

// --- symbolic values ---------------------------------------------------------------------------------

export type RefName = 'accessToken' | 'refreshToken' | 'rotatedRefreshToken' | 'currentPassword' | 'login' | 'sessionId'

/** A value known only when the case runs (a live token, the user's current password...). */
export class Ref {
  constructor(readonly name: RefName) {}
  toString(): string {
    return `ref(${this.name})`
  }
}
export const ref = (name: RefName): Ref => new Ref(name)

export type Resolver = (name: RefName) => Promise<string>

function collectRefs(value: unknown, found = new Set<RefName>()): Set<RefName> {
  if (value instanceof Ref) found.add(value.name)
  else if (Array.isArray(value)) for (const item of value) collectRefs(item, found)
  else if (typeof value === 'object' && value !== null) for (const item of Object.values(value)) collectRefs(item, found)
  return found
}

async function resolveRefs(value: unknown, resolve: Resolver): Promise<Map<RefName, string>> {
  const values = new Map<RefName, string>()
  for (const name of collectRefs(value)) values.set(name, await resolve(name))
  return values
}

// --- strings -----------------------------------------------------------------------------------------

const UNUSUAL = [
  '\u200B',
  '\u200D',
  '\u202E',
  '\u2066',
  '\uFEFF',
  '\uFFFE',
  '\uFFFF',
  '\uFFFD',
  '\u0301',
  '\u0338',
  '\uFB01',
  '\u212B',
  '\u2126',
  '\u2028',
  '\u2029',
  '\u00A0',
  '\u3000',
  'İ',
  'ß',
  'ǅ',
  '𝕏',
  '👩‍👩‍👧',
  '🏳️‍🌈',
  '\u{10FFFF}',
  '\u{E0001}',
  '\u{1F600}',
  '\u0000',
  '\\',
  '"',
  "'",
  '%00',
  '${x}',
  '{{x}}',
  '<script>',
  "'; drop table attune.identity; --",
]

/** C0 and C1 controls and DEL, NUL most often: PostgreSQL text refuses it, so it is the one most likely to hurt. */
const controlChar = fc
  .oneof(
    { weight: 3, arbitrary: fc.constant(0) },
    { weight: 4, arbitrary: fc.integer({ min: 1, max: 0x1f }) },
    fc.constant(0x7f),
    fc.integer({ min: 0x80, max: 0x9f }),
  )
  .map((c) => String.fromCharCode(c))
const loneSurrogate = fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c))
const unusualChar = fc.constantFrom(...UNUSUAL)
const anyChar = fc.oneof(
  { weight: 4, arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) },
  { weight: 1, arbitrary: controlChar },
  { weight: 1, arbitrary: loneSurrogate },
  { weight: 2, arbitrary: unusualChar },
)

/** Lengths at and around every bound the API has (64, 128, 256, MAX_TOKEN_LENGTH, the 16 KB body), and far past them. */
const nearBound = fc.constantFrom(
  0,
  1,
  7,
  8,
  63,
  64,
  65,
  127,
  128,
  129,
  255,
  256,
  257,
  512,
  513,
  4096,
  4097,
  5500,
  8192,
  16_383,
  16_384,
  16_385,
  70_000,
  1 << 20,
)

/** A string the schemas must cope with: odd characters, lone surrogates, control characters, huge repeats. */
export const weirdString: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.string({ unit: anyChar, maxLength: 40 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 80 }) },
  { weight: 1, arbitrary: fc.constantFrom('', ' ', '   ', '\t', '\n', 'null', 'undefined', '0', 'true', '[]', '{}') },
  {
    weight: 2,
    arbitrary: fc
      .tuple(fc.constantFrom('x', 'é', 'e\u0301', '😀', '\u0000', '\uD800', ' ', 'ﬁ', '\u200B'), nearBound)
      .map(([c, n]) => c.repeat(n)),
  },
)

/** A value of the wrong type for a string field. */
export const wrongType: fc.Arbitrary<unknown> = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 }),
  fc.constant(Number.MAX_SAFE_INTEGER),
)

/** A field: usually a plausible value, otherwise a weird string, a wrong type or absent (`undefined` drops the key). */
export function field(plausible: fc.Arbitrary<unknown>, weights: { plausible?: number } = {}): fc.Arbitrary<unknown> {
  return fc.oneof(
    { weight: weights.plausible ?? 12, arbitrary: plausible },
    { weight: 5, arbitrary: weirdString },
    { weight: 2, arbitrary: wrongType },
    { weight: 1, arbitrary: fc.constant(undefined) },
  )
}

/** A suffix unique to this test process, so generated logins meant to be new are new even on a reused database. */
const RUN_TAG = `${Date.now().toString(36)}${process.pid.toString(36)}`

export const plausibleLogin = fc.oneof(
  { weight: 4, arbitrary: fc.stringMatching(/^[a-z][a-z0-9._-]{0,30}$/).map((s) => `${s}-${RUN_TAG}`) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 20 }).map((s) => `${s}~${RUN_TAG}`) },
  { weight: 1, arbitrary: fc.stringMatching(/^[A-Za-z0-9]{1,12}$/) },
)
export const plausiblePassword = fc.oneof(
  { weight: 3, arbitrary: fc.string({ unit: 'grapheme-ascii', minLength: 8, maxLength: 40 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', minLength: 8, maxLength: 30 }) },
)
export const plausibleDisplayName = fc.oneof(fc.constant(null), fc.string({ unit: 'grapheme', maxLength: 40 }))

// --- bodies ------------------------------------------------------------------------------------------

/** What a body carries before it is serialised: JSON object entries (duplicates allowed), any JSON value, or raw text. */
export type Payload =
  | { kind: 'entries'; entries: Array<[string, unknown]>; loneSurrogatesRaw: boolean }
  | { kind: 'json'; value: unknown }
  | { kind: 'text'; text: string }
  | { kind: 'none' }

export type Encoding =
  | { kind: 'text' }
  | { kind: 'base64' }
  /** base64 of the UTF-8 bytes with invalid sequences spliced in. */
  | { kind: 'base64-invalid-utf8'; at: number; bytes: number[] }
  /** isBase64Encoded with text that is not base64 at all. */
  | { kind: 'base64-flag-on-text' }

export interface GeneratedBody {
  payload: Payload
  encoding: Encoding
}

/** Entries for an object body: the route's fields, plus sometimes extra, duplicated or near-miss keys. */
export function shapedEntries(fields: Record<string, fc.Arbitrary<unknown>>): fc.Arbitrary<Array<[string, unknown]>> {
  const known = fc.record(fields)
  const names = Object.keys(fields)
  const key = fc.oneof(
    fc.string({ maxLength: 12 }),
    fc.constantFrom(
      '__proto__',
      'constructor',
      'prototype',
      'toString',
      ...names.map((k) => k.toUpperCase()),
      ...names.map((k) => ` ${k}`),
    ),
    // a known field again: a duplicate key (JSON.parse keeps the last)
    ...(names.length > 0 ? [fc.constantFrom(...names)] : []),
  )
  const extra = fc.array(fc.tuple(key, fc.oneof(fc.jsonValue({ maxDepth: 3 }), weirdString)), { maxLength: 3 })
  return fc.tuple(known, fc.oneof({ weight: 4, arbitrary: fc.constant([]) }, { weight: 1, arbitrary: extra })).map(([record, more]) => {
    const entries = Object.entries(record).filter(([, value]) => value !== undefined) as Array<[string, unknown]>
    return [...entries, ...more]
  })
}

const deepNesting: fc.Arbitrary<string> = fc
  .tuple(fc.constantFrom('array', 'object', 'field'), fc.integer({ min: 1, max: 20_000 }))
  .map(([shape, n]) =>
    shape === 'array'
      ? '['.repeat(n) + ']'.repeat(n)
      : shape === 'object'
        ? `${'{"a":'.repeat(n)}1${'}'.repeat(n)}`
        : `{"login":${'['.repeat(n)}"x"${']'.repeat(n)},"password":"securepassword123"}`,
  )

const malformedText: fc.Arbitrary<string> = fc.oneof(
  fc.string({ unit: anyChar, maxLength: 60 }),
  fc.constantFrom(
    '{',
    '}',
    '{"login": "a", }',
    "{'login': 'a'}",
    '{"login": NaN}',
    '\uFEFF{}',
    '{"login":"a"}{"b":1}',
    '{"login":"a\u0000b","password":"x"}',
    '{"login":"\\ud800","password":"securepassword123"}',
    '{"login":"\\u0000","password":"securepassword123"}',
    '1e999',
    '-',
    '"',
    'null',
    '[]',
    '[{}]',
    '"text"',
    'true',
    '0',
    'login=a&password=b',
    '<xml/>',
  ),
  fc.tuple(fc.jsonValue({ maxDepth: 3 }), fc.nat()).map(([value, cut]) => {
    const text = JSON.stringify(value) ?? ''
    return text.slice(0, text.length === 0 ? 0 : cut % text.length)
  }),
)

export function payload(fields: Record<string, fc.Arbitrary<unknown>>): fc.Arbitrary<Payload> {
  return fc.oneof(
    {
      weight: 14,
      arbitrary: fc
        .tuple(shapedEntries(fields), fc.boolean())
        .map(([entries, loneSurrogatesRaw]): Payload => ({ kind: 'entries', entries, loneSurrogatesRaw })),
    },
    { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 4 }).map((value): Payload => ({ kind: 'json', value })) },
    { weight: 1, arbitrary: deepNesting.map((text): Payload => ({ kind: 'text', text })) },
    { weight: 2, arbitrary: malformedText.map((text): Payload => ({ kind: 'text', text })) },
    { weight: 1, arbitrary: fc.constantFrom<Payload>({ kind: 'none' }, { kind: 'text', text: '' }) },
  )
}

/** Invalid UTF-8: stray continuation bytes, overlongs, encoded surrogates, truncated sequences, bytes never valid. */
const INVALID_UTF8 = [
  [0xff],
  [0xfe],
  [0x80],
  [0xc0, 0xaf],
  [0xe0, 0x80, 0xaf],
  [0xed, 0xa0, 0x80],
  [0xe2, 0x82],
  [0xf4, 0x90, 0x80, 0x80],
  [0xf8, 0x88, 0x80, 0x80, 0x80],
]

export const encoding: fc.Arbitrary<Encoding> = fc.oneof(
  { weight: 16, arbitrary: fc.constant<Encoding>({ kind: 'text' }) },
  { weight: 4, arbitrary: fc.constant<Encoding>({ kind: 'base64' }) },
  {
    weight: 2,
    arbitrary: fc
      .tuple(fc.nat(), fc.constantFrom(...INVALID_UTF8))
      .map(([at, bytes]): Encoding => ({ kind: 'base64-invalid-utf8', at, bytes })),
  },
  { weight: 1, arbitrary: fc.constant<Encoding>({ kind: 'base64-flag-on-text' }) },
)

export function body(fields: Record<string, fc.Arbitrary<unknown>>): fc.Arbitrary<GeneratedBody> {
  return fc.record({ payload: payload(fields), encoding })
}

/** The body as API Gateway would deliver it: `event.body` and `event.isBase64Encoded`. */
export async function materializeBody(
  generated: GeneratedBody,
  resolve: Resolver,
): Promise<{ body: string | null; isBase64Encoded: boolean }> {
  const { payload: p, encoding: e } = generated
  if (p.kind === 'none') return { body: null, isBase64Encoded: e.kind !== 'text' }
  const values = await resolveRefs(p.kind === 'entries' ? p.entries : p.kind === 'json' ? p.value : undefined, resolve)
  const replacer = (_key: string, value: unknown): unknown => (value instanceof Ref ? values.get(value.name) : value)
  let text: string
  if (p.kind === 'text') text = p.text
  else if (p.kind === 'json') text = JSON.stringify(p.value, replacer) ?? 'null'
  else {
    text = `{${p.entries.map(([key, value]) => `${JSON.stringify(key)}:${JSON.stringify(value, replacer) ?? 'null'}`).join(',')}}`
    // JSON.stringify escapes lone surrogates (\udxxx); also send them raw, as a client might.
    if (p.loneSurrogatesRaw) text = text.replace(/\\u(d[89a-f][0-9a-f]{2})/gi, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)))
  }
  switch (e.kind) {
    case 'text':
      return { body: text, isBase64Encoded: false }
    case 'base64':
      return { body: Buffer.from(text, 'utf8').toString('base64'), isBase64Encoded: true }
    case 'base64-invalid-utf8': {
      const bytes = Buffer.from(text, 'utf8')
      const at = bytes.length === 0 ? 0 : e.at % (bytes.length + 1)
      return {
        body: Buffer.concat([bytes.subarray(0, at), Buffer.from(e.bytes), bytes.subarray(at)]).toString('base64'),
        isBase64Encoded: true,
      }
    }
    case 'base64-flag-on-text':
      return { body: text, isBase64Encoded: true }
  }
}

// --- headers -----------------------------------------------------------------------------------------

export interface GeneratedHeaders {
  /** API Gateway sends `headers: null` when a request has none. */
  none: boolean
  contentType: { names: string[]; values: Array<string | undefined> }
  userAgent: string | undefined
  extra: Array<[string, string]>
}

const JSON_TYPES = [
  'application/json',
  'application/json; charset=utf-8',
  'APPLICATION/JSON',
  'application/vnd.api+json',
  'application/json;charset=UTF-16',
]
const OTHER_TYPES = [
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/jsonx',
  'json',
  'application/',
  '',
  ' ',
  'application/xml',
  '*/*',
]

const contentTypeValue = fc.oneof(
  { weight: 14, arbitrary: fc.constant<string | undefined>('application/json') },
  { weight: 2, arbitrary: fc.constantFrom<string | undefined>(...JSON_TYPES) },
  { weight: 2, arbitrary: fc.constantFrom<string | undefined>(...OTHER_TYPES) },
  { weight: 1, arbitrary: weirdString.map((s): string | undefined => s.slice(0, 200)) },
  { weight: 2, arbitrary: fc.constant<string | undefined>(undefined) },
)

export const headers: fc.Arbitrary<GeneratedHeaders> = fc.record({
  none: fc.oneof({ weight: 30, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
  contentType: fc.oneof(
    {
      weight: 8,
      arbitrary: fc
        .tuple(fc.constantFrom('Content-Type', 'content-type', 'CONTENT-TYPE'), contentTypeValue)
        .map(([n, v]) => ({ names: [n], values: [v] })),
    },
    // the same header twice, in two letter cases, with different values
    {
      weight: 1,
      arbitrary: fc
        .tuple(contentTypeValue, contentTypeValue)
        .map(([a, b]) => ({ names: ['Content-Type', 'content-type'], values: [a, b] })),
    },
  ),
  // Stored with every session that register and login open: hostile values matter here most.
  userAgent: fc.oneof({ weight: 4, arbitrary: fc.constant(undefined) }, { weight: 2, arbitrary: weirdString }),
  extra: fc.oneof(
    { weight: 6, arbitrary: fc.constant<Array<[string, string]>>([]) },
    {
      weight: 1,
      arbitrary: fc.array(
        fc.tuple(
          fc.oneof(
            fc.string({ minLength: 1, maxLength: 20 }),
            fc.constantFrom(
              'X-Forwarded-For',
              'Host',
              'Content-Length',
              'Transfer-Encoding',
              'Accept',
              '__proto__',
              'constructor',
              'toString',
              'user-agent',
            ),
          ),
          weirdString,
        ),
        { maxLength: 3 },
      ),
    },
  ),
})

// --- Authorization ---------------------------------------------------------------------------------------

/** Which token goes after `Bearer`: the case's live tokens, tokens made to fail, or junk. */
export type TokenChoice =
  | { kind: 'access' }
  | { kind: 'refresh' }
  | { kind: 'ended-session' }
  | { kind: 'expired' }
  | { kind: 'other-secret' }
  | { kind: 'alg-none' }
  | { kind: 'tampered'; part: 0 | 1 | 2; at: number }
  | { kind: 'truncated'; at: number }
  | { kind: 'junk'; value: string }

export type AuthChoice =
  | { kind: 'absent' }
  | { kind: 'bearer'; scheme: string; gap: string; trail: string; token: TokenChoice }
  | { kind: 'literal'; value: string }
  /** `Authorization` and `authorization` both present. */
  | { kind: 'two-headers'; first: TokenChoice; second: TokenChoice }
  /** Two credentials in one header, as a proxy merging duplicates would send them. */
  | { kind: 'comma-joined'; first: TokenChoice; second: TokenChoice }

const tokenChoice: fc.Arbitrary<TokenChoice> = fc.oneof(
  { weight: 20, arbitrary: fc.constant<TokenChoice>({ kind: 'access' }) },
  {
    weight: 1,
    arbitrary: fc.constantFrom<TokenChoice>(
      { kind: 'refresh' },
      { kind: 'ended-session' },
      { kind: 'expired' },
      { kind: 'other-secret' },
      { kind: 'alg-none' },
    ),
  },
  {
    weight: 1,
    arbitrary: fc.tuple(fc.constantFrom<0 | 1 | 2>(0, 1, 2), fc.nat()).map(([part, at]): TokenChoice => ({ kind: 'tampered', part, at })),
  },
  { weight: 1, arbitrary: fc.nat().map((at): TokenChoice => ({ kind: 'truncated', at })) },
  { weight: 1, arbitrary: weirdString.map((value): TokenChoice => ({ kind: 'junk', value })) },
)

export const authorization: fc.Arbitrary<AuthChoice> = fc.oneof(
  {
    weight: 20,
    arbitrary: fc
      .record({
        scheme: fc.oneof(
          { weight: 30, arbitrary: fc.constant('Bearer') },
          { weight: 1, arbitrary: fc.constantFrom('bearer', 'BEARER', 'Basic', 'Token', 'JWT', 'Bearer:', 'Bearer\u0000', '') },
        ),
        gap: fc.oneof(
          { weight: 30, arbitrary: fc.constant(' ') },
          { weight: 1, arbitrary: fc.constantFrom('', '  ', '\t', '\u00A0', '\n') },
        ),
        trail: fc.oneof(
          { weight: 30, arbitrary: fc.constant('') },
          { weight: 1, arbitrary: fc.constantFrom(' ', '\t', ',', ' x', '\u0000') },
        ),
        token: tokenChoice,
      })
      .map((r): AuthChoice => ({ kind: 'bearer', ...r })),
  },
  { weight: 2, arbitrary: fc.constant<AuthChoice>({ kind: 'absent' }) },
  { weight: 2, arbitrary: weirdString.map((value): AuthChoice => ({ kind: 'literal', value })) },
  {
    weight: 1,
    arbitrary: fc.tuple(tokenChoice, tokenChoice).map(([first, second]): AuthChoice => ({ kind: 'two-headers', first, second })),
  },
  {
    weight: 1,
    arbitrary: fc.tuple(tokenChoice, tokenChoice).map(([first, second]): AuthChoice => ({ kind: 'comma-joined', first, second })),
  },
)

// --- live values for a case ------------------------------------------------------------------------

export interface FuzzUser {
  identityId: number
  login: string
  /** Kept current when a generated change-password succeeds. */
  password: string
}

export interface OpenedSession {
  sessionId: string
  pair: TokenPair
}

/** Opens a session for `user` straight in the repository (no Argon2): what login would have opened. */
export async function openSession(user: FuzzUser): Promise<OpenedSession> {
  const app = getApp()
  const sessionId = randomUUID()
  const refresh = app.tokens.newRefreshTokenId()
  const identity = await app.identities.findById(user.identityId)
  if (!identity) throw new Error(`fuzz user ${user.identityId} is gone`)
  const opened = await app.sessions.open({
    id: sessionId,
    identityId: user.identityId,
    credentialsVersion: identity.credentialsVersion,
    refreshTokenId: refresh.tokenId,
    refreshIssuedAt: refresh.issuedAt,
    userAgent: 'fuzz',
    sourceIp: null,
  })
  if (!opened) throw new Error('the session did not open')
  return { sessionId, pair: await app.tokens.issuePair({ identityId: user.identityId, sessionId }, refresh) }
}

/** Ends every session the case left open, so the user's session list stays short across thousands of cases. */
export async function closeSessions(user: FuzzUser): Promise<void> {
  await getApp().sessions.revokeAll(user.identityId, 'logout_all')
}

/** The live values a case's refs and token choices stand for, made on first use. */
export class CaseContext {
  #session: Promise<OpenedSession> | undefined
  #ended: Promise<OpenedSession> | undefined
  #rotated: Promise<string> | undefined

  constructor(readonly user: FuzzUser) {}

  session(): Promise<OpenedSession> {
    this.#session ??= openSession(this.user)
    return this.#session
  }

  readonly resolve: Resolver = async (name) => {
    switch (name) {
      case 'accessToken':
        return (await this.session()).pair.access_token
      case 'refreshToken':
        return (await this.session()).pair.refresh_token
      case 'rotatedRefreshToken':
        this.#rotated ??= openSession(this.user).then(async ({ pair }) => {
          await createSessionRules(getApp()).refresh({ refresh_token: pair.refresh_token })
          return pair.refresh_token
        })
        return this.#rotated
      case 'currentPassword':
        return this.user.password
      case 'login':
        return this.user.login
      case 'sessionId':
        return (await this.session()).sessionId
    }
  }

  async token(choice: TokenChoice): Promise<string> {
    const app = getApp()
    const { pair, sessionId } = await this.session()
    const now = Math.floor(Date.now() / 1000)
    const claims = {
      sub: String(this.user.identityId),
      login: this.user.login,
      sid: sessionId,
      iss: app.config.jwt.issuer,
      aud: app.config.jwt.audience,
      jti: randomUUID(),
    }
    switch (choice.kind) {
      case 'access':
        return pair.access_token
      case 'refresh':
        return pair.refresh_token
      case 'ended-session': {
        this.#ended ??= openSession(this.user).then(async (s) => {
          await app.sessions.revoke(this.user.identityId, s.sessionId, 'logout')
          return s
        })
        return (await this.#ended).pair.access_token
      }
      case 'expired':
        return forge({ ...claims, iat: now - 7200, exp: now - 3600 }, {}, app.config.jwt.secret)
      case 'other-secret':
        return forge({ ...claims, iat: now, exp: now + 3600 }, {}, new TextEncoder().encode('a-different-secret-of-at-least-32-bytes!!'))
      case 'alg-none': {
        const b64 = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url')
        return `${b64({ alg: 'none', typ: 'at+jwt' })}.${b64({ ...claims, iat: now, exp: now + 3600 })}.`
      }
      case 'tampered': {
        const parts = pair.access_token.split('.')
        const part = parts[choice.part] ?? ''
        const at = choice.at % Math.max(part.length, 1)
        const flipped = part.charAt(at) === 'A' ? 'B' : 'A'
        parts[choice.part] = part.slice(0, at) + flipped + part.slice(at + 1)
        return parts.join('.')
      }
      case 'truncated':
        return pair.access_token.slice(0, choice.at % pair.access_token.length)
      case 'junk':
        return choice.value
    }
  }

  /** The Authorization header(s) for a choice, as name/value pairs. */
  async authorizationHeaders(choice: AuthChoice): Promise<Array<[string, string]>> {
    switch (choice.kind) {
      case 'absent':
        return []
      case 'bearer':
        return [['Authorization', `${choice.scheme}${choice.gap}${await this.token(choice.token)}${choice.trail}`]]
      case 'literal':
        return [['Authorization', choice.value]]
      case 'two-headers':
        return [
          ['Authorization', `Bearer ${await this.token(choice.first)}`],
          ['authorization', `Bearer ${await this.token(choice.second)}`],
        ]
      case 'comma-joined':
        return [['Authorization', `Bearer ${await this.token(choice.first)}, Bearer ${await this.token(choice.second)}`]]
    }
  }
}

// --- sending and checking ----------------------------------------------------------------------------

type Handler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>

export interface Route {
  method: string
  /** The concrete path. */
  path: string
  /** The path as docs/openapi.yaml documents it. */
  documentedPath: string
  handler: Handler
  protected: boolean
}

export interface GeneratedRequest {
  headers: GeneratedHeaders
  body: GeneratedBody
  auth?: AuthChoice
  pathParameters?: Record<string, string> | null
}

export interface Answer {
  status: number
  headers: Record<string, unknown>
  /** The body exactly as sent. */
  raw: string
  /** The request body as the handler received it. */
  sent: { body: string | null; isBase64Encoded: boolean }
}

function headerPairs(generated: GeneratedHeaders): Array<[string, string]> {
  const pairs: Array<[string, string]> = []
  generated.contentType.names.forEach((name, i) => {
    const value = generated.contentType.values[i]
    if (value !== undefined) pairs.push([name, value])
  })
  if (generated.userAgent !== undefined) pairs.push(['User-Agent', generated.userAgent])
  pairs.push(...generated.extra)
  return pairs
}

/** Sends a generated request to a route the way API Gateway would (through the authorizer for a protected route). */
export async function send(route: Route, request: GeneratedRequest, ctx: CaseContext): Promise<Answer> {
  const authPairs = request.auth ? await ctx.authorizationHeaders(request.auth) : []
  const pairs = request.headers.none ? [] : [...headerPairs(request.headers), ...authPairs]
  // Own properties only, whatever the names (`constructor`, `__proto__`...), as JSON.parse would build them.
  const multiMap = new Map<string, string[]>()
  for (const [name, value] of pairs) multiMap.set(name, [...(multiMap.get(name) ?? []), value])
  const headerMap: Record<string, string> = Object.fromEntries([...multiMap].map(([name, values]) => [name, values.at(-1) as string]))
  const multi: Record<string, string[]> = Object.fromEntries(multiMap)
  const sent = await materializeBody(request.body, ctx.resolve)
  const { body, isBase64Encoded } = sent
  const params = request.pathParameters ?? null

  let authorizerContext: Record<string, string> | undefined
  if (route.protected) {
    const outcome = await authorize({
      method: route.method,
      path: route.path,
      resource: route.documentedPath,
      headers: headerMap,
      multiValueHeaders: multi,
      query: {},
      params: params ?? {},
    })
    if (!outcome.allow) return { status: outcome.status, headers: outcome.headers, raw: outcome.body, sent }
    authorizerContext = { principalId: outcome.principalId, ...outcome.context }
  }

  const event = restEvent({
    method: route.method,
    path: route.path,
    headers: headerMap,
    ...(authorizerContext ? { authorizer: authorizerContext } : {}),
  })
  if (request.headers.none) {
    ;(event as { headers: unknown }).headers = null
    ;(event as { multiValueHeaders: unknown }).multiValueHeaders = null
  } else {
    event.multiValueHeaders = { ...event.multiValueHeaders, ...multi }
  }
  event.body = body
  event.isBase64Encoded = isBase64Encoded
  event.pathParameters = params
  const result = await route.handler(event, lambdaContext())
  return { status: result.statusCode, headers: result.headers ?? {}, raw: result.body, sent }
}

/** Anything in a body that would give away how the service is built. */
const INTERNALS =
  /\n\s*at |\bat [\w.<>]+ \(|node:internal|node_modules|file:\/\/|\/work\/|\.(?:ts|js|mjs|cjs):\d+|\b(?:Type|Range|Syntax|Reference)Error\b|Error:|\bSQL\b|postgres|PostgresError|argon2|\$argon2id\$|hash-wasm|valibot|middy|undefined|\[object Object\]/i

const VALID_CODES = new Set(Object.keys(ERROR_STATUS))

/**
 * The property every answer must have: a 200 `{data}` or a 4xx `{error, code}` with the code's own status,
 * JSON with our content type, matching docs/openapi.yaml, revealing nothing internal. Throws otherwise.
 */
export function checkAnswer(route: Route, answer: Answer): { status: number; body: unknown } {
  const describe = (): string => `${route.method} ${route.path} answered ${answer.status}: ${answer.raw.slice(0, 500)}`
  if (answer.status !== 200 && !(answer.status >= 400 && answer.status < 500)) throw new Error(`expected 200 or a 4xx; ${describe()}`)
  const contentType = String(answer.headers['Content-Type'] ?? '')
  if (!/^application\/json\b/.test(contentType))
    throw new Error(`expected a JSON content type, got ${JSON.stringify(contentType)}; ${describe()}`)
  let body: unknown
  try {
    body = JSON.parse(answer.raw)
  } catch {
    throw new Error(`the body is not JSON; ${describe()}`)
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new Error(`the body is not a JSON object; ${describe()}`)
  const keys = Object.keys(body).sort().join(',')
  if (answer.status === 200) {
    if (keys !== 'data') throw new Error(`a 200 must be exactly {data}; ${describe()}`)
  } else {
    const { error, code, reason } = body as { error?: unknown; code?: unknown; reason?: unknown }
    if (keys !== 'code,error,reason' || typeof error !== 'string' || typeof code !== 'string' || typeof reason !== 'string')
      throw new Error(`an error must be exactly {error, code, reason}; ${describe()}`)
    if (!VALID_CODES.has(code) || ERROR_STATUS[code as keyof typeof ERROR_STATUS] !== answer.status)
      throw new Error(`code ${code} does not go with status ${answer.status}; ${describe()}`)
    if (!(reason in REASONS) || REASONS[reason as Reason].code !== code)
      throw new Error(`reason ${reason} does not go with code ${code}; ${describe()}`)
    if (error.length === 0 || error.length > 200) throw new Error(`the error message is empty or long; ${describe()}`)
    if (INTERNALS.test(answer.raw)) throw new Error(`the body reveals internals; ${describe()}`)
  }
  expectMatchesOpenApi(route.method, route.documentedPath, answer.status, body)
  return { status: answer.status, body }
}

/** Parses a body as the handler received it, as lib/http/route.ts does (to read back a field of a request that succeeded). */
export function receivedJson(sent: Answer['sent']): Record<string, unknown> {
  const text = sent.isBase64Encoded ? new TextDecoder().decode(Buffer.from(sent.body ?? '', 'base64')) : (sent.body ?? '')
  return JSON.parse(text) as Record<string, unknown>
}

/** Counts answers by status, for the fuzz run's summary. */
export class StatusTally {
  readonly counts = new Map<string, number>()
  add(status: number, body: unknown): void {
    const code = typeof body === 'object' && body !== null && 'code' in body ? String((body as { code: unknown }).code) : 'data'
    const key = `${status} ${code}`
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1)
  }
  get total(): number {
    let n = 0
    for (const c of this.counts.values()) n += c
    return n
  }
  count(status: number): number {
    let n = 0
    for (const [key, c] of this.counts) if (key.startsWith(`${status} `)) n += c
    return n
  }
  toString(): string {
    return [...this.counts]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, c]) => `${k}: ${c}`)
      .join(', ')
  }
}
