/**
 * What an identity may do now: its unexpired roles and their permissions, in one query. The authorizer reads
 * it through lib/authz/grants.ts's cache; nothing else of the role administration (lib/db/roles.ts) is in
 * the authorizer's bundle.
 */
import type { Fragment, Queryable, Sql } from './client.js'

/** What an identity may do now, and until when that stays true without any change (a grant's expiry). */
export interface Grants {
  roles: string[]
  permissions: string[]
  /** Milliseconds since the epoch when the first of its grants expires; null when none does. */
  validUntil: number | null
}

/**
 * SQL: the identity's grants in force (not expired), a row per role and permission: `role`, `permission` (null
 * for a role without any) and `expires_at`. The one definition of "a grant in force", for every reader.
 */
export function liveGrants(sql: Queryable, identityId: Fragment | number): Fragment {
  const id = typeof identityId === 'number' ? sql`${identityId}::bigint` : identityId
  return sql`
    select r.role, rp.permission, r.expires_at
    from attune.identity_role r
    left join attune.role_permission rp on rp.role = r.role
    where r.identity_id = ${id} and (r.expires_at is null or r.expires_at > now())`
}

/**
 * SQL: the columns `authz_version` and `permissions` (sorted, unexpired) of the identity `identityId`, for the
 * statements that issue tokens (their access token's `scope` and `authz_ver`), read in the same statement.
 */
export function grantsColumns(sql: Queryable, identityId: Fragment | number): Fragment {
  const id = typeof identityId === 'number' ? sql`${identityId}::bigint` : identityId
  return sql`
    (select authz_version from attune.identity where id = ${id}) as authz_version,
    array(select distinct g.permission from (${liveGrants(sql, id)}) g where g.permission is not null order by g.permission) as permissions`
}

/** The row of `grantsColumns` as a token's grants. */
export const toIssuedGrants = (row: { authz_version: string | number; permissions: string[] }) => ({
  permissions: row.permissions,
  authzVersion: Number(row.authz_version),
})

export interface GrantsReader {
  grantsOf(identityId: number): Promise<Grants>
}

export function createGrantsReader(sql: Sql): GrantsReader {
  return {
    async grantsOf(identityId) {
      const rows = await sql<{ role: string; permission: string | null; expires_at: Date | null }[]>`${liveGrants(sql, identityId)}`
      const expiries = rows.map((row) => row.expires_at?.getTime()).filter((t): t is number => t !== undefined)
      return {
        roles: [...new Set(rows.map((row) => row.role))].sort(),
        permissions: [...new Set(rows.map((row) => row.permission).filter((p): p is string => p !== null))].sort(),
        validUntil: expiries.length > 0 ? Math.min(...expiries) : null,
      }
    },
  }
}
