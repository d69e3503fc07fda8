/**
 * A benchmark-only prototype of a bounded in-container cache of the authorizer's Allow decisions — the
 * session's state included — to measure what it would save. Not adopted: see docs/PERFORMANCE.md.
 *
 * - Built on lib/tokens/verified-tokens.ts: keyed by the token's SHA-256, bounded (least recently used out first),
 *   one cache per set of authorizer dependencies (one token service, one secret and its rotation partner),
 *   so a decision never crosses a secret.
 * - Value: the Allow decision, kept until the token expires or `maxAgeSeconds` pass, whichever is first.
 *   `maxAgeSeconds` bounds how late this container notices a logout or a revoked session: the same trade
 *   as API Gateway's own authorizer cache (serverless.yml `authorizerCacheTtl`, 0 by default).
 * - Only Allow is cached: a refused token costs a full decision each time, so junk tokens cannot fill the cache.
 */
import { decodeJwt } from 'jose'
import type { AuthorizerDependencies, AuthorizerEvent, Decision } from '../../lib/authorizer/decision.js'
import { bearerToken, decide } from '../../lib/authorizer/decision.js'
import { createVerifiedTokenCache } from '../../lib/tokens/verified-tokens.js'

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
  // lib/tokens/verified-tokens.ts's bounded, expiring store, holding decisions instead of claims.
  const entries = createVerifiedTokenCache<Allow>({ maxEntries, now })
  return {
    get: (token) => entries.get(token),
    set: (token, decision, expiresAt) => entries.set(token, decision, Math.min(expiresAt * 1000, now() + maxAgeSeconds * 1000)),
    get size() {
      return entries.size
    },
  }
}

/** lib/authorizer/decision.ts `decide`, answered from `cache` when this exact token was allowed moments ago. */
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
