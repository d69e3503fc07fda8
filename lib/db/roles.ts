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

    async listRoles() {
      const rows = await sql<{ name: string; description: string; permissions: string[] }[]>`
        select r.name, r.description, coalesce(array_agg(rp.permission order by rp.permission) filter (where rp.permission is not null), '{}') as permissions
        from attune.role r left join attune.role_permission rp on rp.role = r.name
        group by r.name, r.description order by r.name`
      return rows.map((row) => ({ name: row.name, description: row.description, permissions: row.permissions }))
    },
  }
}
