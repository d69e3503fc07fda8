/**
 * The authorizer's warm per-call cost against a bare jose jwtVerify with the key imported once:
 * - the token check alone, in full and answered by the service's cache of verified access tokens
 *   (lib/tokens/verified-tokens.ts, on by default);
 * - the session lookup alone (one indexed query on a real PostgreSQL), which every call makes;
 * - the whole handler with the token remembered (a client calling again with its token: the usual case),
 *   with a token it has not seen (a miss: full verify, then remembered), and with the cache off;
 * - for comparison, a prototype (tests/bench/decision-cache.ts) that also caches the session's state, for
 *   up to 60 s: not adopted, because a logout would reach access tokens up to 60 s late.
 * Prints the ratios to jwtVerify.
 */

import { webcrypto } from 'node:crypto'
import { jwtVerify } from 'jose'
import { describe } from 'vitest'
import { handler } from '../../functions/authorizer.js'
import { getApp } from '../../lib/app.js'
import { createDecisionCaches } from '../../lib/authorizer/caches.js'
import type { AuthorizerEvent } from '../../lib/authorizer/decision.js'
import { decide, toAuthorizerResult } from '../../lib/authorizer/decision.js'
import { createTokenService, newIdentityClaims, passwordAssurance } from '../../lib/tokens/service.js'
import { createVerifiedTokenCache } from '../../lib/tokens/verified-tokens.js'
import { registerUser } from '../support/api.js'
import { requestAuthorizerEvent } from '../support/events.js'
import { cachedDecide, createDecisionCache } from './decision-cache.js'
import { createRecorder, fixed, markdownTable, ratio, recordGoals } from './support.js'

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
})

recorder.whenDone(() => {
  const bare = recorder.median(NAMES.bare)
  const rows = Object.values(NAMES).map((name) => {
    const ms = recorder.median(name)
    return [name, fixed(ms * 1000, 0), ratio(ms, bare)]
  })
  console.log(
    markdownTable('Authorizer, warm, median µs per call (goal: whole handler ≤ 1.2x jwtVerify)', ['what', 'µs', '× jwtVerify'], rows),
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
