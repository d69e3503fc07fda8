/**
 * What an identity may do, as the authorizer needs it on every request without a second query: a per-container
 * cache keyed by (identity, authz_version). The version comes from the authorizer's one session lookup, and
 * every change to the identity's grants or to its roles' permissions moves it (database triggers), so a
 * revocation misses the cache on the very next request. A grant's expiry moves nothing: an entry is also
 * kept no longer than its first grant's `expires_at`.
 */
import type { Grants, GrantsReader } from '../db/grants.js'

export interface GrantsLookup {
  grantsOf(identityId: number, authzVersion: number): Promise<Grants>
}

/** Identities kept at most; past it the least recently filled entries go first. */
export const GRANTS_CACHE_ENTRIES = 10_000

export function createGrantsCache(roles: GrantsReader, now: () => number = Date.now): GrantsLookup {
  const cache = new Map<number, { version: number; grants: Grants }>()
  return {
    async grantsOf(identityId, authzVersion) {
      const hit = cache.get(identityId)
      if (hit && hit.version === authzVersion && (hit.grants.validUntil === null || now() < hit.grants.validUntil)) return hit.grants
      const grants = await roles.grantsOf(identityId)
      cache.delete(identityId)
      cache.set(identityId, { version: authzVersion, grants })
      if (cache.size > GRANTS_CACHE_ENTRIES) cache.delete(cache.keys().next().value as number)
      return grants
    },
  }
}
