/**
 * The authorizer's warm per-call cost: the whole decision (verify + one indexed session lookup on a
 * real PostgreSQL), the decision without the lookup, and a bare jose jwtVerify with the key imported once.
 * Also a prototype (tests/bench/decision-cache.ts) of a bounded in-container cache of Allow decisions:
 * a hit (the same token again) and a miss (a token it has not seen). Prints the ratios to jwtVerify.
 */

import { webcrypto } from 'node:crypto'
import { jwtVerify } from 'jose'
import { describe } from 'vitest'
import { handler } from '../../functions/authorizer.js'
import { getApp } from '../../lib/app.js'
import type { AuthorizerEvent } from '../../lib/authorizer.js'
import { decide, toAuthorizerResult } from '../../lib/authorizer.js'
import { registerUser } from '../support/api.js'
import { requestAuthorizerEvent } from '../support/events.js'
import { cachedDecide, createDecisionCache } from './decision-cache.js'
import { createRecorder, fixed, markdownTable, ratio } from './support.js'

const app = getApp()
const user = await registerUser()
const event = requestAuthorizerEvent({ Authorization: `Bearer ${user.tokens.access_token}` })
const key = await webcrypto.subtle.importKey('raw', app.config.jwt.secret, { name: 'HMAC', hash: 'SHA-256' }, false, ['verify'])
const alwaysActive = { isActive: async () => true }
const { sessionId } = await app.tokens.verifyAccessToken(user.tokens.access_token)
const deps = { tokens: app.tokens, sessions: app.sessions }
const simpleResponses = app.config.authorizerSimpleResponses

// The cache prototype, wrapped as functions/authorizer.ts wraps `decide`.
const cache = createDecisionCache({ maxEntries: 1000, maxAgeSeconds: 60 })
const cachedHandler = async (e: AuthorizerEvent) => toAuthorizerResult(await cachedDecide(cache, e, deps), e, { simpleResponses })
// Misses: more distinct valid tokens (same session) than a small cache holds, used in turn.
const missCache = createDecisionCache({ maxEntries: 100, maxAgeSeconds: 60 })
const missEvents: AuthorizerEvent[] = []
for (let i = 0; i < 400; i++) {
  const pair = await app.tokens.issuePair({ identityId: user.identityId, login: user.login, sessionId }, app.tokens.newRefreshTokenId())
  missEvents.push(requestAuthorizerEvent({ Authorization: `Bearer ${pair.access_token}` }))
}
let next = 0
const missHandler = async () => {
  const e = missEvents[next++ % missEvents.length] as AuthorizerEvent
  return toAuthorizerResult(await cachedDecide(missCache, e, deps), e, { simpleResponses })
}

const NAMES = {
  bare: 'jose jwtVerify alone (key imported once)',
  noLookup: 'decision without the session lookup',
  lookup: 'session lookup alone (one indexed query)',
  handler: 'whole authorizer handler (verify + session lookup + policy)',
  hit: 'handler + decision cache (prototype), hit',
  miss: 'handler + decision cache (prototype), miss',
}

const recorder = createRecorder()
describe('authorizer, warm, per call', () => {
  recorder.bench(NAMES.bare, () => jwtVerify(user.tokens.access_token, key, { algorithms: ['HS256'] }))
  recorder.bench(NAMES.noLookup, () => decide(event, { tokens: app.tokens, sessions: alwaysActive }))
  recorder.bench(NAMES.lookup, () => app.sessions.isActive(sessionId))
  recorder.bench(NAMES.handler, () => handler(event))
  recorder.bench(NAMES.hit, () => cachedHandler(event))
  recorder.bench(NAMES.miss, missHandler)
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
})
