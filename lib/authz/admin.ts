/**
 * The admin routes (README "Roles and permissions"): permissions, roles, and who holds which. Every route needs
 * the caller to hold `attune:admin` now (read live by the authorizer), answers 403 otherwise, and every change
 * is one statement (or transaction) with its audit events, the administrator's identity as actor.
 */

import { ApiError, invalidField } from '@attune-auth/client/errors'
import type { AuthenticatedUser } from '@attune-auth/client/require-auth'
import type { App } from '../app.js'
import type { IdentityRepository } from '../db/identities.js'
import type { ChangeAuthor, PermissionSummary, RoleRepository, RoleSummary } from '../db/roles.js'
import { createRoleRepository } from '../db/roles.js'
import type { ClientInfo } from '../http/client.js'
import type { Logger } from '../log.js'
import type { CreatePermissionInput, CreateRoleInput, IdentityRolesInput, IdentitySearchInput, RolePermissionsInput } from './requests.js'

/** The permission every admin route needs. */
export const ADMIN_PERMISSION = 'attune:admin'

/** One grant, as the admin routes show it. */
export interface GrantView {
  role: string
  granted_by: number | null
  granted_at: string
  expires_at: string | null
}

export interface IdentityView {
  id: number
  login: string
  display_name: string | null
  email: string | null
  /** When an administrator suspended it, or null. */
  suspended_at: string | null
}

export interface AdminDependencies {
  roles: RoleRepository
  identities: IdentityRepository
  logger: Logger
}

/** The administrator as the author of a change; a 403 when the caller does not hold `attune:admin` now. */
export function adminAuthor(logger: Logger, user: AuthenticatedUser, client: ClientInfo): ChangeAuthor {
  if (!user.permissions.includes(ADMIN_PERMISSION)) {
    logger.info('admin route refused', {
      event: 'auth.admin',
      outcome: 'failure',
      reason: 'permission_missing',
      identityId: user.identityId,
    })
    throw new ApiError('permission_missing', { message: `You do not have the permission this needs (${ADMIN_PERMISSION})` })
  }
  return { actor: { type: 'admin', id: String(user.identityId) }, origin: client, grantedBy: user.identityId }
}

export function createAdminRules({ roles, identities, logger }: AdminDependencies) {
  const admin = (user: AuthenticatedUser, client: ClientInfo): ChangeAuthor => adminAuthor(logger, user, client)

  async function knownPermissions(names: string[]): Promise<void> {
    const unknown = await roles.unknownPermissions(names)
    if (unknown.length > 0) throw invalidField(`permissions: no permission ${someOf(unknown)}`)
  }

  const roleView = async (name: string): Promise<RoleSummary> => {
    const role = (await roles.listRoles()).find((r) => r.name === name)
    if (!role) throw new ApiError('role_not_found')
    return role
  }

  const grantsView = async (identityId: number): Promise<GrantView[]> => {
    const grants = await roles.grantsListOf(identityId)
    if (!grants) throw new ApiError('identity_not_found')
    return grants.map((g) => ({
      role: g.role,
      granted_by: g.grantedBy,
      granted_at: g.grantedAt.toISOString(),
      expires_at: g.expiresAt?.toISOString() ?? null,
    }))
  }

  return {
    async listPermissions(user: AuthenticatedUser, client: ClientInfo): Promise<PermissionSummary[]> {
      admin(user, client)
      return roles.listPermissions()
    },

    async createPermission(user: AuthenticatedUser, { name, description }: CreatePermissionInput, client: ClientInfo) {
      if (!(await roles.createPermission(name, description, admin(user, client)))) throw new ApiError('permission_exists')
      return { name, description }
    },

    async listRoles(user: AuthenticatedUser, client: ClientInfo): Promise<RoleSummary[]> {
      admin(user, client)
      return roles.listRoles()
    },

    async createRole(user: AuthenticatedUser, { name, description, permissions }: CreateRoleInput, client: ClientInfo) {
      const author = admin(user, client)
      await knownPermissions(permissions)
      if (!(await roles.createRole(name, description, permissions, author))) throw new ApiError('role_exists')
      return roleView(name)
    },

    async setRolePermissions(user: AuthenticatedUser, role: string, { permissions }: RolePermissionsInput, client: ClientInfo) {
      const author = admin(user, client)
      await knownPermissions(permissions)
      if (!(await roles.setRolePermissions(role, permissions, author))) throw new ApiError('role_not_found')
      return roleView(role)
    },

    async identityRoles(user: AuthenticatedUser, identityId: number, client: ClientInfo): Promise<GrantView[]> {
      admin(user, client)
      return grantsView(identityId)
    },

    async setIdentityRoles(user: AuthenticatedUser, identityId: number, { roles: wanted }: IdentityRolesInput, client: ClientInfo) {
      const author = admin(user, client)
      const unknown = await roles.unknownRoles(wanted.map((grant) => grant.role))
      if (unknown.length > 0) throw invalidField(`roles: no role ${someOf(unknown)}`)
      const grants = wanted.map((grant) => ({ role: grant.role, expiresAt: grant.expires_at }))
      if (!(await roles.setIdentityRoles(identityId, grants, author))) throw new ApiError('identity_not_found')
      return grantsView(identityId)
    },

    async findIdentities(user: AuthenticatedUser, { login }: IdentitySearchInput, client: ClientInfo): Promise<IdentityView[]> {
      admin(user, client)
      const key = await identities.accountKeyFor(login)
      const identity = key === null ? undefined : await identities.findByLogin(key)
      return identity
        ? [
            {
              id: identity.id,
              login: identity.login,
              display_name: identity.displayName,
              email: identity.email,
              suspended_at: identity.suspendedAt?.toISOString() ?? null,
            },
          ]
        : []
    },
  }
}

export type AdminRules = ReturnType<typeof createAdminRules>

/** The admin rules on the app, with the role repository only the admin functions carry. */
export const adminRulesOf = (app: App): AdminRules => createAdminRules({ ...app, roles: createRoleRepository(app.sql) })

/** The first names of a list for a message, sorted, and how many more: a message stays short whatever was sent. */
export function someOf(names: readonly string[], shown = 3): string {
  const sorted = [...names].sort()
  const more = sorted.length - shown
  return `${sorted.slice(0, shown).join(', ')}${more > 0 ? ` and ${more} more` : ''}`
}
