/**
 * A benchmark-only prototype of a bounded in-container cache of the authorizer's Allow decisions,
 * to measure what it would save before anything changes in lib/ (issue 8).
 *
 * - Key: the bearer token, exactly. One cache belongs to one set of authorizer dependencies (one token
 *   service, one secret and its rotation partner), so a decision never outlives or crosses a secret.
 * - Value: the Allow decision, kept until the token expires or `maxAgeSeconds` pass, whichever is first.
 *   `maxAgeSeconds` bounds how late this container notices a logout or a revoked session; API Gateway's
 *   own authorizer cache (serverless.yml `authorizerCacheTtl`, 300 s) already allows that much on our routes.
 * - Only Allow is cached: a refused token costs a full decision each time, so junk tokens cannot fill the cache.
 * - At most `maxEntries` decisions; the least recently used goes first (Map keeps insertion order).
 */
import { decodeJwt } from 'jose'
import type { AuthorizerDependencies, AuthorizerEvent, Decision } from '../../lib/authorizer.js'
import { bearerToken, decide } from '../../lib/authorizer.js'

type Allow = Extract<Decision, { effect: 'Allow' }>

export interface DecisionCacheOptions {
  maxEntries: number
  maxAgeSeconds: number
  /** Milliseconds since the epoch. */
  now?: () => number
}

export interface DecisionCache {
  get(token: string): Allow | undefined
  set(token: string, decision: Allow, expiresAt: number): void
  readonly size: number
}

export function createDecisionCache({ maxEntries, maxAgeSeconds, now = Date.now }: DecisionCacheOptions): DecisionCache {
  const entries = new Map<string, { decision: Allow; until: number }>()
  return {
    get(token) {
      const entry = entries.get(token)
      if (!entry) return undefined
      entries.delete(token)
      if (now() >= entry.until) return undefined
      entries.set(token, entry) // most recently used last
      return entry.decision
    },
    set(token, decision, expiresAt) {
      const until = Math.min(expiresAt * 1000, now() + maxAgeSeconds * 1000)
      if (until <= now()) return
      entries.delete(token)
      while (entries.size >= maxEntries) {
        const oldest = entries.keys().next()
        if (oldest.done) break
        entries.delete(oldest.value)
      }
      entries.set(token, { decision, until })
    },
    get size() {
      return entries.size
    },
  }
}

/** lib/authorizer.ts `decide`, answered from `cache` when this exact token was allowed moments ago. */
export async function cachedDecide(cache: DecisionCache, event: AuthorizerEvent, deps: AuthorizerDependencies): Promise<Decision> {
  const token = bearerToken(event)
  const hit = token === undefined ? undefined : cache.get(token)
  if (hit) return hit
  const decision = await decide(event, deps)
  if (decision.effect === 'Allow' && token !== undefined) {
    // The token verified, so its payload is the one we signed: exp is a number.
    const { exp } = decodeJwt(token)
    if (typeof exp === 'number') cache.set(token, decision, exp)
  }
  return decision
}
