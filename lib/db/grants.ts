/**
 * What an identity may do now: its unexpired roles and their permissions, in one query. The authorizer reads
 * it through lib/authz/grants.ts's cache; nothing else of the role administration (lib/db/roles.ts) is in
 * the authorizer's bundle.
 */
import type { Sql } from './client.js'

/** What an identity may do now, and until when that stays true without any change (a grant's expiry). */
export interface Grants {
  roles: string[]
  permissions: string[]
  /** Milliseconds since the epoch when the first of its grants expires; null when none does. */
  validUntil: number | null
}

export interface GrantsReader {
  grantsOf(identityId: number): Promise<Grants>
}

export function createGrantsReader(sql: Sql): GrantsReader {
  return {
    async grantsOf(identityId) {
      const rows = await sql<{ role: string; permission: string | null; expires_at: Date | null }[]>`
        select r.role, rp.permission, r.expires_at
        from attune.identity_role r
        left join attune.role_permission rp on rp.role = r.role
        where r.identity_id = ${identityId} and (r.expires_at is null or r.expires_at > now())`
      const expiries = rows.map((row) => row.expires_at?.getTime()).filter((t): t is number => t !== undefined)
      return {
        roles: [...new Set(rows.map((row) => row.role))].sort(),
        permissions: [...new Set(rows.map((row) => row.permission).filter((p): p is string => p !== null))].sort(),
        validUntil: expiries.length > 0 ? Math.min(...expiries) : null,
      }
    },
  }
}
