/**
 * The service-account admin routes (README "Service accounts"): create accounts, make, list, revoke and rotate
 * their API keys. Every route needs the caller to hold `service_accounts:manage` now (read live by the
 * authorizer: 403 otherwise) and to have signed in with a second factor (acr aal2: otherwise 401 with RFC
 * 9470's challenge). A key is answered once, when it is made; every change is audited with the caller as actor.
 */
import { ApiError, invalidField, stepUpRequired } from '@attune-auth/client/errors'
import type { AuthenticatedUser } from '@attune-auth/client/require-auth'
import type { App } from '../app.js'
import type { ChangeAuthor } from '../db/roles.js'
import type { ApiKeySummary, ServiceAccountRepository } from '../db/service-accounts.js'
import { createServiceAccountRepository, serviceLogin } from '../db/service-accounts.js'
import type { ClientInfo } from '../http/client.js'
import type { Logger } from '../log.js'
import { mintApiKey, newStoredApiKey } from './api-key.js'
import type { CreateKeyInput, CreateServiceAccountInput } from './requests.js'

export const MANAGE_PERMISSION = 'service_accounts:manage'

/** A key as the routes show it: never the key but when it is made, never its hash. */
export interface KeyView {
  id: string
  name: string
  display: string
  scopes: string[]
  created: string
  expires_at: string
  last_used: string | null
  revoked_at: string | null
  replaced_by: string | null
}

const view = (k: ApiKeySummary): KeyView => ({
  id: k.id,
  name: k.name,
  display: k.display,
  scopes: k.scopes,
  created: k.created.toISOString(),
  expires_at: k.expiresAt.toISOString(),
  last_used: k.lastUsed?.toISOString() ?? null,
  revoked_at: k.revokedAt?.toISOString() ?? null,
  replaced_by: k.replacedBy,
})

export interface ServiceAccountAdminDependencies {
  accounts: ServiceAccountRepository
  config: Pick<App['config'], 'apiKeys'>
  logger: Logger
}

export function createServiceAccountAdmin({ accounts, config, logger }: ServiceAccountAdminDependencies) {
  /** The caller as the author of a change: 403 without the permission, 401 (step up) without a second factor. */
  function manager(user: AuthenticatedUser, client: ClientInfo): ChangeAuthor {
    if (!user.permissions.includes(MANAGE_PERMISSION)) {
      logger.info('service-account route refused', {
        event: 'auth.service_accounts',
        outcome: 'failure',
        reason: 'permission_missing',
        identityId: user.identityId,
      })
      throw new ApiError('permission_missing', { message: `You do not have the permission this needs (${MANAGE_PERMISSION})` })
    }
    if (user.acr !== 'aal2') throw stepUpRequired({ acr: 'aal2' })
    return { actor: { type: 'admin', id: String(user.identityId) }, origin: client, grantedBy: user.identityId }
  }

  async function account(accountId: number) {
    const found = await accounts.byId(accountId)
    if (!found) throw new ApiError('service_account_not_found')
    return found
  }

  return {
    async createAccount(user: AuthenticatedUser, { name }: CreateServiceAccountInput, client: ClientInfo) {
      const created = await accounts.create(name, manager(user, client))
      if (!created) throw new ApiError('service_account_exists')
      return { id: created.id, name, login: serviceLogin(name) }
    },

    async createKey(user: AuthenticatedUser, accountId: number, input: CreateKeyInput, client: ClientInfo) {
      const author = manager(user, client)
      await account(accountId)
      const { key, stored } = mintApiKey(config.apiKeys.environment, input.expires_in_days)
      const created = await accounts.createKey(accountId, { ...stored, name: input.name, scopes: input.scopes }, author)
      if (created.outcome === 'no_account') throw new ApiError('service_account_not_found')
      if (created.outcome === 'scopes_not_held') {
        throw invalidField(
          `scopes: the account does not hold ${created.scopes.slice(0, 3).join(', ')}${created.scopes.length > 3 ? ' and more' : ''}`,
        )
      }
      return {
        id: stored.id,
        key,
        display: stored.display,
        name: input.name,
        scopes: input.scopes,
        expires_at: stored.expiresAt.toISOString(),
      }
    },

    async listKeys(user: AuthenticatedUser, accountId: number, client: ClientInfo): Promise<KeyView[]> {
      manager(user, client)
      await account(accountId)
      return (await accounts.listKeys(accountId)).map(view)
    },

    async revokeKey(user: AuthenticatedUser, accountId: number, keyId: string, client: ClientInfo) {
      const author = manager(user, client)
      await account(accountId)
      if (!(await accounts.revokeKey(accountId, keyId, author))) throw new ApiError('api_key_not_found')
      return { revoked: true as const }
    },

    async rotateKey(user: AuthenticatedUser, accountId: number, keyId: string, client: ClientInfo) {
      const author = manager(user, client)
      await account(accountId)
      const overlap = config.apiKeys.rotationOverlapHours
      const { key, stored } = newStoredApiKey(config.apiKeys.environment)
      const expiresAt = await accounts.rotateKey(accountId, keyId, stored, overlap, author)
      if (!expiresAt) throw new ApiError('api_key_not_found')
      return { id: stored.id, key, display: stored.display, expires_at: expiresAt.toISOString(), replaces: keyId, overlap_hours: overlap }
    },
  }
}

/** The admin routes' rules on the app (their own repository: no other function carries it). */
export const serviceAccountAdminOf = (app: App) =>
  createServiceAccountAdmin({ accounts: createServiceAccountRepository(app.sql), config: app.config, logger: app.logger })
