/**
 * Roles and permissions (infra/migrations/00012_roles.sql), as administrators change them (npm run admin); the
 * authorizer reads them through lib/db/grants.ts alone. Every change is one
 * statement with its audit row; the triggers move the identities' `authz_version` in the same statement.
 */
import type { Actor, Origin } from '../audit/events.js'
import { recordEvents } from './audit.js'
import type { Sql } from './client.js'
import type { GrantsReader } from './grants.js'
import { createGrantsReader } from './grants.js'

export interface PermissionSummary {
  name: string
  description: string
}

/** One of an identity's grants. */
export interface RoleGrant {
  role: string
  grantedBy: number | null
  grantedAt: Date
  expiresAt: Date | null
}

export interface RoleSummary {
  name: string
  description: string
  permissions: string[]
}

/** Who changes grants, and from where: the admin's identity (or the CLI), for the audit rows. */
export interface ChangeAuthor {
  actor: Actor
  origin: Origin
  /** The identity that grants, when it is one (identity_role.granted_by). */
  grantedBy: number | null
}

export interface RoleRepository extends GrantsReader {
  createPermission(name: string, description: string, author: ChangeAuthor): Promise<boolean>
  /** Creates the role (false when it exists) with these permissions, which must exist. */
  createRole(name: string, description: string, permissions: string[], author: ChangeAuthor): Promise<boolean>
  /** Grants `role` to `identityId` until `expiresAt` (null: no end); false when the role does not exist. */
  grantRole(identityId: number, role: string, expiresAt: Date | null, author: ChangeAuthor): Promise<boolean>
  /** False when the identity did not hold the role. */
  revokeRole(identityId: number, role: string, author: ChangeAuthor): Promise<boolean>
  listRoles(): Promise<RoleSummary[]>
  listPermissions(): Promise<PermissionSummary[]>
  /** The names among `names` that are not permissions. */
  unknownPermissions(names: string[]): Promise<string[]>
  /** The names among `names` that are not roles. */
  unknownRoles(names: string[]): Promise<string[]>
  /** Replaces the role's permissions (all must exist); false when there is no such role. */
  setRolePermissions(role: string, permissions: string[], author: ChangeAuthor): Promise<boolean>
  /** The identity's grants, unexpired or not; undefined when there is no such identity. */
  grantsListOf(identityId: number): Promise<RoleGrant[] | undefined>
  /**
   * Makes the identity's roles exactly `grants` (all must exist): grants the new ones, updates expiries,
   * revokes the others, each with its audit event. False when there is no such identity.
   */
  setIdentityRoles(identityId: number, grants: { role: string; expiresAt: Date | null }[], author: ChangeAuthor): Promise<boolean>
}

export function createRoleRepository(sql: Sql): RoleRepository {
  return {
    ...createGrantsReader(sql),

    async createPermission(name, description, { actor, origin }) {
      const [row] = await sql<{ created: boolean }[]>`
        with created as (
          insert into attune.permission (name, description) values (${name}, ${description})
          on conflict (name) do nothing returning name
        ), event as (${recordEvents(
          sql,
          { type: 'permission.created', outcome: 'success', actor, origin },
          sql`select null::bigint as identity_id, null::uuid as session_id, jsonb_build_object('permission', name) as data from created`,
        )})
        select exists (select 1 from created) as created`
      return row?.created === true
    },

    async createRole(name, description, permissions, { actor, origin }) {
      const [row] = await sql<{ created: boolean }[]>`
        with created as (
          insert into attune.role (name, description) values (${name}, ${description})
          on conflict (name) do nothing returning name
        ), granted as (
          insert into attune.role_permission (role, permission)
          select c.name, p.name from created c join attune.permission p on p.name = any(${permissions}::text[])
          returning permission
        ), event as (${recordEvents(
          sql,
          { type: 'role.created', outcome: 'success', actor, origin },
          sql`select null::bigint as identity_id, null::uuid as session_id,
                     jsonb_build_object('role', name, 'permissions', (select coalesce(jsonb_agg(permission order by permission), '[]') from granted)) as data
              from created`,
        )})
        select exists (select 1 from created) as created`
      return row?.created === true
    },

    async grantRole(identityId, role, expiresAt, { actor, origin, grantedBy }) {
      const [row] = await sql<{ granted: boolean }[]>`
        with granted as (
          insert into attune.identity_role (identity_id, role, granted_by, expires_at)
          select ${identityId}, r.name, ${grantedBy}::bigint, ${expiresAt}::timestamptz from attune.role r where r.name = ${role}
          on conflict (identity_id, role) do update
            set granted_by = excluded.granted_by, granted_at = now(), expires_at = excluded.expires_at
          returning identity_id, role, expires_at
        ), event as (${recordEvents(
          sql,
          { type: 'role.granted', outcome: 'success', actor, origin },
          sql`select identity_id, null::uuid as session_id, jsonb_build_object('role', role, 'expires_at', expires_at) as data from granted`,
        )})
        select exists (select 1 from granted) as granted`
      return row?.granted === true
    },

    async revokeRole(identityId, role, { actor, origin }) {
      const [row] = await sql<{ revoked: boolean }[]>`
        with revoked as (
          delete from attune.identity_role where identity_id = ${identityId} and role = ${role}
          returning identity_id, role
        ), event as (${recordEvents(
          sql,
          { type: 'role.revoked', outcome: 'success', actor, origin },
          sql`select identity_id, null::uuid as session_id, jsonb_build_object('role', role) as data from revoked`,
        )})
        select exists (select 1 from revoked) as revoked`
      return row?.revoked === true
    },

    async listPermissions() {
      return sql<PermissionSummary[]>`select name, description from attune.permission order by name`
    },

    async unknownPermissions(names) {
      const rows = await sql<{ name: string }[]>`
        select n as name from unnest(${names}::text[]) n where not exists (select 1 from attune.permission p where p.name = n)`
      return rows.map((row) => row.name)
    },

    async unknownRoles(names) {
      const rows = await sql<{ name: string }[]>`
        select n as name from unnest(${names}::text[]) n where not exists (select 1 from attune.role r where r.name = n)`
      return rows.map((row) => row.name)
    },

    async setRolePermissions(role, permissions, { actor, origin }) {
      const [row] = await sql<{ found: boolean }[]>`
        with target as (select name from attune.role where name = ${role}),
        removed as (
          delete from attune.role_permission rp using target t
          where rp.role = t.name and rp.permission <> all(${permissions}::text[])
          returning rp.permission
        ), added as (
          insert into attune.role_permission (role, permission)
          select t.name, p from target t, unnest(${permissions}::text[]) p
          on conflict do nothing
          returning permission
        ), event as (${recordEvents(
          sql,
          { type: 'role.permissions_changed', outcome: 'success', actor, origin },
          sql`select null::bigint as identity_id, null::uuid as session_id,
                     jsonb_build_object('role', name, 'permissions', ${sql.json(permissions)}::jsonb) as data
              from target where exists (select 1 from removed) or exists (select 1 from added)`,
        )})
        select exists (select 1 from target) as found`
      return row?.found === true
    },

    async grantsListOf(identityId) {
      const rows = await sql<
        { found: boolean; role: string | null; granted_by: string | null; granted_at: Date | null; expires_at: Date | null }[]
      >`
        select true as found, r.role, r.granted_by, r.granted_at, r.expires_at
        from attune.identity i left join attune.identity_role r on r.identity_id = i.id
        where i.id = ${identityId}
        order by r.role`
      if (rows.length === 0) return undefined
      return rows
        .filter((row) => row.role !== null)
        .map((row) => ({
          role: row.role as string,
          grantedBy: row.granted_by === null ? null : Number(row.granted_by),
          grantedAt: row.granted_at as Date,
          expiresAt: row.expires_at,
        }))
    },

    async setIdentityRoles(identityId, grants, author) {
      return sql.begin(async (tx) => {
        const [identity] = await tx`select id from attune.identity where id = ${identityId} for update`
        if (!identity) return false
        const repository = createRoleRepository(tx as unknown as Sql)
        const current = await tx<{ role: string; expires_at: Date | null }[]>`
          select role, expires_at from attune.identity_role where identity_id = ${identityId}`
        const held = new Map(current.map((row) => [row.role, row.expires_at?.getTime() ?? null]))
        const wanted = new Set(grants.map((grant) => grant.role))
        for (const { role } of current) if (!wanted.has(role)) await repository.revokeRole(identityId, role, author)
        for (const grant of grants) {
          // Unchanged grants are left alone: no audit event, no new authz_version.
          if (held.has(grant.role) && held.get(grant.role) === (grant.expiresAt?.getTime() ?? null)) continue
          await repository.grantRole(identityId, grant.role, grant.expiresAt, author)
        }
        return true
      })
    },

    async listRoles() {
      const rows = await sql<{ name: string; description: string; permissions: string[] }[]>`
        select r.name, r.description, coalesce(array_agg(rp.permission order by rp.permission) filter (where rp.permission is not null), '{}') as permissions
        from attune.role r left join attune.role_permission rp on rp.role = r.name
        group by r.name, r.description order by r.name`
      return rows.map((row) => ({ name: row.name, description: row.description, permissions: row.permissions }))
    },
  }
}
