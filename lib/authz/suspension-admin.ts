/**
 * The admin routes that stop an account (README "Sessions, refresh and logout"): end its sessions, suspend it, lift
 * the suspension. Each needs the caller to hold `attune:admin` now and to have signed in with a second factor (acr
 * aal2: otherwise 401 with RFC 9470's challenge), so a stolen administrator's password, or an aal1 token, cannot lock
 * everyone out. An administrator cannot suspend themselves. The work is lib/db/suspensions.ts's; the caller is the
 * actor of every audit event.
 */
import { ApiError, stepUpRequired } from '@attune-auth/client/errors'
import type { AuthenticatedUser } from '@attune-auth/client/require-auth'
import type { App } from '../app.js'
import type { ChangeAuthor } from '../db/roles.js'
import type { SuspensionRepository } from '../db/suspensions.js'
import { createSuspensionRepository } from '../db/suspensions.js'
import type { ClientInfo } from '../http/client.js'
import type { Logger } from '../log.js'
import { adminAuthor } from './admin.js'
import type { SuspensionInput } from './requests.js'

export interface SuspensionAdminDependencies {
  suspensions: SuspensionRepository
  logger: Logger
}

export function createSuspensionAdmin({ suspensions, logger }: SuspensionAdminDependencies) {
  function author(user: AuthenticatedUser, client: ClientInfo): ChangeAuthor {
    const admin = adminAuthor(logger, user, client)
    if (user.acr !== 'aal2') throw stepUpRequired({ acr: 'aal2' })
    return admin
  }

  return {
    async endSessions(user: AuthenticatedUser, identityId: number, client: ClientInfo) {
      const ended = await suspensions.endSessions(identityId, author(user, client))
      if (ended === undefined) throw new ApiError('identity_not_found')
      return { sessions_ended: ended }
    },

    async suspend(user: AuthenticatedUser, identityId: number, { reason }: SuspensionInput, client: ClientInfo) {
      const by = author(user, client)
      if (identityId === user.identityId) throw new ApiError('cannot_suspend_self')
      const suspended = await suspensions.suspend(identityId, reason || null, by)
      if (!suspended) throw new ApiError('identity_not_found')
      return { suspended: true, sessions_ended: suspended.sessionsEnded }
    },

    async unsuspend(user: AuthenticatedUser, identityId: number, client: ClientInfo) {
      if ((await suspensions.unsuspend(identityId, author(user, client))) === undefined) throw new ApiError('identity_not_found')
      return { suspended: false }
    },
  }
}

export type SuspensionAdmin = ReturnType<typeof createSuspensionAdmin>

/** The rules on the app, with the suspension repository only these functions carry. */
export const suspensionAdminOf = (app: App): SuspensionAdmin =>
  createSuspensionAdmin({ ...app, suspensions: createSuspensionRepository(app.sql, app.config.sessions) })
