/**
 * Proving the current password from a signed-in session (change-password, email change). Wrong passwords are
 * counted per identity, as logins are per account: past the free attempts each one waits (429), and the one
 * that reaches them ends the session that sent it (401 session_ended): a stolen access token cannot keep
 * guessing. A right password clears the count. Every step is counted before Argon2.
 */
import { ApiError, bearerRefused } from '@attune-auth/client/errors'
import type { Config } from '../config.js'
import type { Identity } from '../db/identities.js'
import type { SessionRepository } from '../db/sessions.js'
import type { ThrottleRepository } from '../db/throttle.js'
import type { ClientInfo } from '../http/client.js'
import type { Logger } from '../log.js'
import type { PasswordHashing } from '../passwords/hashing.js'
import type { ThrottleKeys } from '../throttle/keys.js'
import { tooManyAttempts } from '../throttle/refusals.js'

export interface CurrentPasswordDependencies {
  config: Pick<Config, 'throttle'>
  throttle: ThrottleRepository
  throttleKeys: ThrottleKeys
  sessions: Pick<SessionRepository, 'revoke'>
  logger: Logger
}

export interface CurrentPasswordAttempt {
  identity: Identity
  sessionId: string
  password: string
  client: ClientInfo
  /** The log event of the route asking (`auth.change_password`, `auth.email_change`). */
  event: string
}

/** Resolves when `password` is the identity's; throws the route's refusal otherwise. */
export async function proveCurrentPassword(
  { config, throttle, throttleKeys, sessions, logger }: CurrentPasswordDependencies,
  passwords: PasswordHashing,
  { identity, sessionId, password, client, event }: CurrentPasswordAttempt,
): Promise<void> {
  const log = { event, identityId: identity.id, sessionId }
  const key = throttleKeys.identity(identity.id)
  const counted = await throttle.count(key, config.throttle.account)
  if (!counted.allowed) {
    logger.info('current password throttled', { ...log, outcome: 'failure', reason: 'throttled', retryAfter: counted.retryAfter })
    throw tooManyAttempts(counted.retryAfter)
  }
  if (!(await passwords.verifyPassword(password, identity.passwordHash))) {
    if (counted.failures >= config.throttle.account.free) {
      // Someone is guessing with this session (a stolen token?): it ends; the identity's wait applies too.
      await sessions.revoke(identity.id, sessionId, 'password_guessing', client)
      logger.warn('session ended after repeated wrong current passwords', { ...log, outcome: 'failure', reason: 'password_guessing' })
      throw bearerRefused('session_ended')
    }
    logger.info('current password refused', { ...log, outcome: 'failure', reason: 'invalid_current_password' })
    throw new ApiError('invalid_current_password')
  }
  await throttle.reset(key)
}
