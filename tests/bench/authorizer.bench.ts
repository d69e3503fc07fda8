/**
 * The authorizer's warm per-call cost against a bare jose jwtVerify with the key imported once:
 * - the token check alone, in full and answered by the service's cache of verified access tokens
 *   (lib/tokens/verified-tokens.ts, on by default);
 * - the session lookup alone (one indexed query on a real PostgreSQL), which every call makes;
 * - the whole handler with the token remembered (a client calling again with its token: the usual case),
 *   with a token it has not seen (a miss: full verify, then remembered), and with the cache off;
 * - for comparison, a prototype (tests/bench/decision-cache.ts) that also caches the session's state, for
 *   up to 60 s: not adopted, because a logout would reach access tokens up to 60 s late;
 * - a service account's API key (issue 19) beside a JWT: the whole handler for a key (warm: its statement
 *   prepared, the account's grants cached), the key lookup alone, the checks before it (checksum, SHA-256),
 *   and the refusals that cost no query: a key with a bad checksum, and a JWT with a bad signature;
 * - the route verdict alone (lib/authz/route-requirements.ts) over an API's 40 requirements, half of them asking
 *   how the caller signed in (min_acr, max_age): what route requirements add to a call, with no query.
 * Prints the ratios to jwtVerify, and the key's to the JWT's.
 */

import { randomUUID, webcrypto } from 'node:crypto'
import { jwtVerify } from 'jose'
import { describe } from 'vitest'
import { handler } from '../../functions/authorizer.js'
import { runAdmin } from '../../infra/admin.js'
import { getApp } from '../../lib/app.js'
import { createDecisionCaches } from '../../lib/authorizer/caches.js'
import type { AuthorizerEvent } from '../../lib/authorizer/decision.js'
import { decide, toAuthorizerResult } from '../../lib/authorizer/decision.js'
import { routeVerdict } from '../../lib/authz/route-requirements.js'
import type { RouteRequirement } from '../../lib/db/route-requirements.js'
import { apiKeyHash, checkApiKey } from '../../lib/keys/api-key.js'
import { createTokenService, newIdentityClaims, passwordAssurance } from '../../lib/tokens/service.js'
import { createVerifiedTokenCache } from '../../lib/tokens/verified-tokens.js'
import { registerUser } from '../support/api.js'
import { requestAuthorizerEvent } from '../support/events.js'
import { cachedDecide, createDecisionCache } from './decision-cache.js'
import { createRecorder, fixed, interleaved, markdownTable, median, ratio, recordGoals } from './support.js'

const app = getApp()
const user = await registerUser()
const token = user.tokens.access_token
const event = requestAuthorizerEvent({ Authorization: `Bearer ${token}` })
const key = await webcrypto.subtle.importKey('raw', app.config.jwt.secret, { name: 'HMAC', hash: 'SHA-256' }, false, ['verify'])
const alwaysActive = {
  find: async () => ({ login: user.login, active: true, authzVersion: 0, requirementsVersion: 0, assurance: passwordAssurance(0) }),
}
const caches = createDecisionCaches(app.sql, app.config)
const { sessionId } = await app.tokens.verifyAccessToken(token)
const simpleResponses = app.config.authorizerSimpleResponses

// The same token service with its cache off: every call verifies in full.
const uncached = createTokenService({ ...app.config.jwt, accessTokenCache: createVerifiedTokenCache({ maxEntries: 0, now: Date.now }) })
const uncachedHandler = async (e: AuthorizerEvent) =>
  toAuthorizerResult(await decide(e, { tokens: uncached, sessions: app.sessions, ...caches }), e, { simpleResponses })

// Misses: more distinct valid tokens (same session) than the cache holds, used in turn.
const small = createTokenService({ ...app.config.jwt, accessTokenCache: createVerifiedTokenCache({ maxEntries: 100, now: Date.now }) })
const missEvents: AuthorizerEvent[] = []
for (let i = 0; i < 400; i++) {
  const pair = await app.tokens.issuePair({ identityId: user.identityId, sessionId }, app.tokens.newRefreshTokenId(), newIdentityClaims(0))
  missEvents.push(requestAuthorizerEvent({ Authorization: `Bearer ${pair.access_token}` }))
}
let next = 0
const missHandler = async () => {
  const e = missEvents[next++ % missEvents.length] as AuthorizerEvent
  return toAuthorizerResult(await decide(e, { tokens: small, sessions: app.sessions, ...caches }), e, { simpleResponses })
}

// The prototype that also caches the session's state (not adopted).
const decisions = createDecisionCache({ maxEntries: 1000, maxAgeSeconds: 60 })
const decisionCachedHandler = async (e: AuthorizerEvent) =>
  toAuthorizerResult(await cachedDecide(decisions, e, { tokens: uncached, sessions: app.sessions, ...caches }), e, { simpleResponses })

// A service account holding a role, and a key with that role's permission, made as
// tests/integration/security/api-keys.test.ts makes them (npm run admin's verbs, on the test database).
const admin = (...argv: string[]) => runAdmin(argv, app.sql)
const id = randomUUID().slice(0, 8)
const [account, role, permission] = [`bench-${id}`, `bench-${id}`, `bench${id}:read`]
await admin('create-permission', permission)
await admin('create-role', role, permission)
await admin('create-service-account', account)
await admin('grant-role', `service:${account}`, role)
const apiKey = (await admin('create-key', account, 'bench', '--scopes', permission)).at(-1) ?? ''
const keyEvent = requestAuthorizerEvent({ Authorization: `Bearer ${apiKey}` })
// One character of the key's body changed: the checksum no longer matches.
const flipped = `${apiKey.slice(0, 20)}${apiKey[20] === 'a' ? 'b' : 'a'}${apiKey.slice(21)}`
const badChecksumEvent = requestAuthorizerEvent({ Authorization: `Bearer ${flipped}` })
// The access token with another signature: verified in full (a refused token is never remembered), no query.
const [head, payload] = token.split('.')
const badSignatureEvent = requestAuthorizerEvent({ Authorization: `Bearer ${head}.${payload}.${'A'.repeat(43)}` })
const effectOf = async (e: AuthorizerEvent) => {
  try {
    const result = await handler(e)
    return 'policyDocument' in result ? result.policyDocument.Statement[0]?.Effect : undefined
  } catch (error) {
    return error instanceof Error ? error.message : 'thrown'
  }
}
// Measure what we mean to: the key allowed, both forgeries denied.
for (const [e, expected] of [
  [keyEvent, 'Allow'],
  [badChecksumEvent, 'Deny'],
  [badSignatureEvent, 'Deny'],
] as const) {
  const effect = await effectOf(e)
  if (effect !== expected) throw new Error(`authorizer bench setup: expected ${expected}, got ${effect}`)
}

const NAMES = {
  bare: 'jose jwtVerify alone (key imported once)',
  verify: 'token check in full (verifyAccessToken, cache off)',
  remembered: 'token check, token remembered (verifyAccessToken, cache hit)',
  noLookup: 'decision without the session lookup, token remembered',
  lookup: 'session lookup alone (one indexed query)',
  handler: 'whole handler, token remembered (the default; a client calling again)',
  miss: 'whole handler, a token not seen before (verify, then remember)',
  off: 'whole handler, cache off',
  decisions: 'whole handler, session state cached too for 60 s (prototype, not adopted), hit',
}

// An API with 40 requirements on 20 routes: a permission on every route, and a sign-in need on every other one.
const ROUTE_ROWS: RouteRequirement[] = Array.from({ length: 20 }, (_, i): RouteRequirement[] => {
  const [method, resource] = [i % 2 === 0 ? 'POST' : 'GET', `/things${i}/{id}`]
  const row = { apiId: 'bench', method, resource, minAcr: null, maxAge: null, mode: 'enforce' as const }
  return [
    { ...row, permission: `things${i}:use` },
    { ...row, permission: null, ...(i % 2 === 0 ? { minAcr: 'aal2' as const, maxAge: 300 } : { maxAge: 3600 }) },
  ]
}).flat()
const ROUTE_CALLER = { permissions: Array.from({ length: 20 }, (_, i) => `things${i}:use`), acr: 'aal1' as const, authTime: 1_800_000_000 }

const ROUTE_NAMES = {
  verdict: 'route verdict alone, 40 requirements (20 asking how the caller signed in)',
}

const KEY_NAMES = {
  key: 'whole handler, API key (statement prepared, grants cached)',
  keyLookup: 'API key lookup alone (one indexed statement)',
  keyChecks: 'API key checks before the lookup (checksum, SHA-256)',
  badChecksum: 'whole handler, refusal: API key with a bad checksum (no query)',
  badSignature: 'whole handler, refusal: JWT with a bad signature (full verify, no query)',
}

// Side by side: the key's cases and the JWT's take turns (tests/bench/support.ts `interleaved`), so a burst of
// load from another process hits both alike (run one after the other, as vitest runs the rows below, they moved
// by more than their gap from run to run); each turn is a batch of calls, so every case runs warm as it does there.
const SIDE_BY_SIDE_ROUNDS = 300
const BATCH = 10
const batch = (fn: () => unknown) => async () => {
  for (let i = 0; i < BATCH; i++) await fn()
}
const sideBySide = {
  'JWT: whole handler, token remembered (a client calling again)': batch(() => handler(event)),
  'JWT: whole handler, a token not seen before (verify, then remember)': batch(missHandler),
  'API key: whole handler (statement prepared, grants cached)': batch(() => handler(keyEvent)),
  'JWT: session lookup alone (one indexed query)': batch(() => app.sessions.find(user.identityId, sessionId)),
  'API key: key lookup alone (one indexed statement)': batch(() => caches.apiKeys.find(apiKeyHash(apiKey))),
  'JWT: refusal, bad signature (full verify, no query)': batch(() => handler(badSignatureEvent)),
  'API key: refusal, bad checksum (no query)': batch(() => handler(badChecksumEvent)),
}
const sideTimes = await interleaved(sideBySide, SIDE_BY_SIDE_ROUNDS)
/** Median per call, in ms, over the rounds. */
const sideMedian = (name: keyof typeof sideBySide): number => median(sideTimes.get(name) ?? []) / BATCH
const jwtRemembered = sideMedian('JWT: whole handler, token remembered (a client calling again)')
const micros = (ms: number): string => fixed(ms * 1000, ms * 1000 < 10 ? 1 : 0)
console.log(
  markdownTable(
    `Authorizer, API key vs JWT, warm, median µs per call (${SIDE_BY_SIDE_ROUNDS} interleaved rounds of ${BATCH} calls each)`,
    ['what', 'µs', '÷ JWT, whole handler, token remembered'],
    Object.keys(sideBySide).map((name) => {
      const ms = sideMedian(name as keyof typeof sideBySide)
      return [name, micros(ms), ratio(ms, jwtRemembered)]
    }),
  ),
)

const recorder = createRecorder()
describe('authorizer, warm, per call', () => {
  recorder.bench(NAMES.bare, () => jwtVerify(token, key, { algorithms: ['HS256'] }))
  recorder.bench(NAMES.verify, () => uncached.verifyAccessToken(token))
  recorder.bench(NAMES.remembered, () => app.tokens.verifyAccessToken(token))
  recorder.bench(NAMES.noLookup, () => decide(event, { tokens: app.tokens, sessions: alwaysActive, ...caches }))
  recorder.bench(NAMES.lookup, () => app.sessions.find(user.identityId, sessionId))
  recorder.bench(NAMES.handler, () => handler(event))
  recorder.bench(NAMES.miss, missHandler)
  recorder.bench(NAMES.off, () => uncachedHandler(event))
  recorder.bench(NAMES.decisions, () => decisionCachedHandler(event))
  recorder.bench(KEY_NAMES.key, () => handler(keyEvent))
  recorder.bench(KEY_NAMES.keyLookup, () => caches.apiKeys.find(apiKeyHash(apiKey)))
  recorder.bench(KEY_NAMES.keyChecks, () => checkApiKey(apiKey) && apiKeyHash(apiKey))
  recorder.bench(KEY_NAMES.badChecksum, () => handler(badChecksumEvent))
  recorder.bench(KEY_NAMES.badSignature, () => handler(badSignatureEvent))
  recorder.bench(ROUTE_NAMES.verdict, () => routeVerdict(ROUTE_ROWS, ROUTE_CALLER, 'POST/things4/7', 1_800_000_100))
})

recorder.whenDone(() => {
  const bare = recorder.median(NAMES.bare)
  const rows = Object.values(NAMES).map((name) => {
    const ms = recorder.median(name)
    return [name, fixed(ms * 1000, 0), ratio(ms, bare)]
  })
  const keyRows = [...Object.values(KEY_NAMES), ...Object.values(ROUTE_NAMES)].map((name) => {
    const ms = recorder.median(name)
    return [name, micros(ms), ratio(ms, bare)]
  })
  console.log(
    markdownTable(
      'Authorizer, warm, median µs per call (goal: whole handler ≤ 1.2x jwtVerify)',
      ['what', 'µs', '× jwtVerify'],
      [...rows, ...keyRows],
    ),
  )
  const whole = recorder.median(NAMES.handler) / bare
  recordGoals('authorizer', [
    {
      goal: 'authorizer, whole handler, warm: ≤ 1.2x a bare jwtVerify',
      measured: `${whole.toFixed(2)}x (token remembered; the session lookup alone ${ratio(recorder.median(NAMES.lookup), bare)}, the rest ${ratio(recorder.median(NAMES.noLookup), bare)}; cache off ${ratio(recorder.median(NAMES.off), bare)})`,
      met: whole <= 1.2,
    },
  ])
})
