/**
 * A small in-container cache of verified access tokens: a warm authorizer sees the same access
 * token on call after call, and answers it again without the signature check.
 *
 * - Only a token that verified goes in; a refused token is verified in full every time, so junk cannot fill it.
 * - An entry lasts until its token expires, or until the key that verified it stops verifying (the end of a
 *   previous secret's overlap), whichever comes first: a hit answers exactly what verifying again would.
 * - Entries are keyed by the SHA-256 of the token: a lookup compares digests, never a caller's bytes with a
 *   cached bearer token, and the cache holds no token.
 * - At most `maxEntries`; the least recently used goes first. 0 turns the cache off.
 * - One cache belongs to one token service, built from one set of keys: it never answers across secrets.
 * It caches the token only. Whether the token's session is still active is asked of the database on every
 * call, so a logout still reaches access tokens at once.
 */

import { createHash } from 'node:crypto'

/** Claims of type T (the token service's VerifiedToken), stored and answered as they are. */
export interface VerifiedTokenCache<T> {
  /** The claims of `token` if it verified before and still would now. */
  get(token: string): T | undefined
  /** Remembers that `token` verified, with these claims, until `until` (milliseconds since the epoch). */
  set(token: string, claims: T, until: number): void
  readonly size: number
}

export interface VerifiedTokenCacheOptions {
  maxEntries: number
  /** The clock, in milliseconds since the epoch (the token service's own). */
  now: () => number
}

/** How many verified access tokens one container keeps by default (a few hundred bytes each). */
export const VERIFIED_TOKEN_CACHE_SIZE = 1000

const digest = (token: string): string => createHash('sha256').update(token).digest('base64')

export function createVerifiedTokenCache<T>({ maxEntries, now }: VerifiedTokenCacheOptions): VerifiedTokenCache<T> {
  const entries = new Map<string, { claims: T; until: number }>()
  return {
    get(token) {
      if (maxEntries <= 0) return undefined
      const key = digest(token)
      const entry = entries.get(key)
      if (!entry) return undefined
      entries.delete(key)
      if (now() >= entry.until) return undefined
      entries.set(key, entry) // most recently used last
      return entry.claims
    },
    set(token, claims, until) {
      if (maxEntries <= 0 || now() >= until) return
      const key = digest(token)
      entries.delete(key)
      while (entries.size >= maxEntries) {
        const oldest = entries.keys().next()
        if (oldest.done) break
        entries.delete(oldest.value)
      }
      entries.set(key, { claims, until })
    },
    get size() {
      return entries.size
    },
  }
}
