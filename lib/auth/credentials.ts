/**
 * The rules that check a password: login, and changing the password. Both need Argon2, passed in as a
 * required dependency (`PasswordHashing`), so only the functions that hash carry it.
 *
 * - Login always costs one Argon2 verification: an unknown login is checked against a dummy hash of equal
 *   cost, so neither the answer nor its time tells which logins exist. Its session opens only while the
 *   credentials are still the ones verified (lib/db/sessions.ts `open`).
 * - A password change is one transaction (lib/db/credentials.ts): every other session ends, this one keeps
 *   working with a new pair.
 */
import { ApiError, bearerRefused } from '@attune-auth/client/errors'
import type { CredentialRepository } from '../db/credentials.js'
import type { Identity, IdentityRepository } from '../db/identities.js'
import type { SessionRepository } from '../db/sessions.js'
import type { ClientInfo } from '../http/client.js'
import type { Logger } from '../log.js'
import type { PasswordHashing } from '../passwords/hashing.js'
import type { Pseudonymize } from '../pseudonyms.js'
import type { TokenPair, TokenService } from '../tokens/service.js'
import type { ChangePasswordInput, LoginInput } from './requests.js'
import type { Caller } from './sessions.js'
import { newSession } from './sessions.js'

/**
 * `POST /auth/change-password`'s body: the seed's two fields, and the session's new token pair (its
 * refresh token from before the change no longer works).
 */
export interface PasswordChanged extends TokenPair {
  success: true
  message: 'Password changed successfully'
}

export interface CredentialRules {
  login(input: LoginInput, client: ClientInfo): Promise<TokenPair>
  changePassword(caller: Caller, input: ChangePasswordInput): Promise<PasswordChanged>
}

export interface CredentialRuleDependencies {
  identities: IdentityRepository
  sessions: SessionRepository
  credentials: CredentialRepository
  tokens: TokenService
  logger: Logger
  /** Keyed hashes of typed logins for the logs (a login field sometimes holds a password). */
  pseudonymize: Pseudonymize
}

export function createCredentialRules(
  { identities, sessions, credentials, tokens, logger, pseudonymize }: CredentialRuleDependencies,
  passwords: PasswordHashing,
): CredentialRules {
  /** The password just proved right, hashed again at today's parameters; a failure is logged, the login goes on. */
  async function rehash(identity: Identity, password: string): Promise<void> {
    try {
      await identities.rehashPassword(identity.id, identity.credentialsVersion, await passwords.hashPassword(password))
      logger.info('password rehashed', { event: 'auth.rehash', outcome: 'success', identityId: identity.id })
    } catch (error) {
      logger.warn('password rehash failed', { event: 'auth.rehash', outcome: 'failure', identityId: identity.id, error })
    }
  }

  return {
    async login({ login, password }, client) {
      const loginHash = pseudonymize(login.key)
      const log = { event: 'auth.login', loginHash }
      const identity = await identities.findByLogin(login.key)
      const valid = await passwords.verifyPassword(password, identity?.passwordHash)
      if (!identity || !valid) {
        logger.info('login refused', { ...log, outcome: 'failure', reason: 'invalid_credentials' })
        throw new ApiError('invalid_credentials')
      }
      if (identity.passwordHash && passwords.needsRehash(identity.passwordHash)) await rehash(identity, password)
      const { session, refresh } = newSession(tokens, client)
      if (!(await sessions.open({ ...session, identityId: identity.id, credentialsVersion: identity.credentialsVersion }))) {
        // The password changed after this login verified it: the password it proved is no longer the password.
        logger.info('login refused', { ...log, outcome: 'failure', reason: 'credentials_changed', identityId: identity.id })
        throw new ApiError('invalid_credentials')
      }
      logger.info('login succeeded', { ...log, outcome: 'success', identityId: identity.id, sessionId: session.id })
      return tokens.issuePair({ identityId: identity.id, sessionId: session.id }, refresh)
    },

    async changePassword({ identityId, sessionId }, { current_password, new_password }) {
      const identity = await identities.findById(identityId)
      const valid = await passwords.verifyPassword(current_password, identity?.passwordHash)
      if (!identity) throw bearerRefused('token_invalid')
      const log = { event: 'auth.change_password', identityId, sessionId }
      if (!valid) {
        logger.info('password change refused', { ...log, outcome: 'failure', reason: 'invalid_current_password' })
        throw new ApiError('invalid_current_password')
      }
      const next = tokens.newRefreshTokenId()
      const result = await credentials.changePassword({
        identityId,
        verifiedVersion: identity.credentialsVersion,
        passwordHash: await passwords.hashPassword(new_password),
        sessionId,
        next: { refreshTokenId: next.tokenId, refreshIssuedAt: next.issuedAt },
      })
      switch (result.outcome) {
        case 'stale':
          // Another change committed after this one verified the password: the one verified is no longer current.
          logger.info('password change refused', { ...log, outcome: 'failure', reason: 'credentials_changed' })
          throw new ApiError('invalid_current_password')
        case 'session_ended':
          logger.info('password change refused', { ...log, outcome: 'failure', reason: 'session_ended' })
          throw bearerRefused('session_ended')
        case 'changed':
          logger.info('password changed', { ...log, outcome: 'success', otherSessionsEnded: result.otherSessionsEnded })
          return { success: true, message: 'Password changed successfully', ...(await tokens.issuePair({ identityId, sessionId }, next)) }
      }
    },
  }
}
