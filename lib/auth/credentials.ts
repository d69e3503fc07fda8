/**
 * The rules that check a password: login, and changing the password. Both need Argon2, passed in as a
 * required dependency (`PasswordHashing`), so only the functions that hash carry it.
 *
 * - Login is throttled per account and per source address (lib/db/login-attempts.ts): the attempt is
 *   counted before Argon2, and a refused one (429, Retry-After) costs none. A permitted login always costs
 *   one Argon2 verification: an unknown login is checked against a dummy hash of equal cost, and throttled
 *   like a known one, so neither the answer, its time nor its wait tells which logins exist. Its session
 *   opens only while the credentials are still the ones verified (lib/db/sessions.ts `open`).
 * - Changing the password: the new one must not be weak (lib/auth/new-passwords.ts); wrong current
 *   passwords are counted per identity like logins, and the one that reaches the free attempts ends the
 *   session that made it. The change is one transaction (lib/db/credentials.ts): every other session ends,
 *   this one keeps working with a new pair.
 */
import { ApiError, bearerRefused } from '@attune-auth/client/errors'
import type { Config } from '../config.js'
import type { CommonPasswordRepository } from '../db/common-passwords.js'
import type { CredentialRepository } from '../db/credentials.js'
import type { Identity, IdentityRepository } from '../db/identities.js'
import type { LoginAttemptRepository } from '../db/login-attempts.js'
import type { SessionRepository } from '../db/sessions.js'
import type { ThrottleRepository } from '../db/throttle.js'
import type { ClientInfo } from '../http/client.js'
import type { Logger } from '../log.js'
import type { Challenges, MfaRequired } from '../mfa/challenges.js'
import type { PasswordHashing } from '../passwords/hashing.js'
import type { Pseudonymize } from '../pseudonyms.js'
import type { ThrottleKeys } from '../throttle/keys.js'
import { tooManyAttempts, weakPassword } from '../throttle/refusals.js'
import type { TokenPair, TokenService } from '../tokens/service.js'
import { PASSWORD_SIGN_IN } from '../tokens/service.js'
import { proveCurrentPassword } from './current-password.js'
import { weaknessOf } from './new-passwords.js'
import type { ChangePasswordInput, LoginInput } from './requests.js'
import type { Caller } from './sessions.js'
import { newSession } from './sessions.js'

/**
 * `POST /auth/change-password`'s body: the contract's two fields (docs/openapi.yaml), and the session's new token pair (its
 * refresh token from before the change no longer works).
 */
export interface PasswordChanged extends TokenPair {
  success: true
  message: 'Password changed successfully'
}

export interface CredentialRules {
  /** The token pair, or, for an identity with a second factor, what `POST /auth/mfa/verify` needs instead. */
  login(input: LoginInput, client: ClientInfo): Promise<TokenPair | MfaRequired>
  changePassword(caller: Caller, input: ChangePasswordInput, client: ClientInfo): Promise<PasswordChanged>
}

export interface CredentialRuleDependencies {
  config: Pick<Config, 'throttle'>
  identities: IdentityRepository
  sessions: SessionRepository
  credentials: CredentialRepository
  loginAttempts: LoginAttemptRepository
  throttle: ThrottleRepository
  throttleKeys: ThrottleKeys
  commonPasswords: CommonPasswordRepository
  tokens: TokenService
  logger: Logger
  /** Keyed hashes of typed logins for the logs (a login field sometimes holds a password). */
  pseudonymize: Pseudonymize
  /** The login challenges of identities with a second factor (lib/mfa/challenges.ts). */
  challenges: Pick<Challenges, 'open'>
}

export function createCredentialRules(deps: CredentialRuleDependencies, passwords: PasswordHashing): CredentialRules {
  const {
    config,
    identities,
    sessions,
    credentials,
    loginAttempts,
    throttleKeys,
    commonPasswords,
    tokens,
    logger,
    pseudonymize,
    challenges,
  } = deps
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
      const loginHash = pseudonymize(login.key ?? login.display)
      const log = { event: 'auth.login', loginHash }
      // An address is resolved to its account's login first (one more statement for every text that is an
      // address, whether or not it names one), so that login and email share one counter per account.
      const loginKey = await identities.accountKeyFor(login)
      const keys = {
        loginKey: loginKey ?? '',
        account: throttleKeys.login(loginKey ?? `email:${login.email?.toLowerCase()}`),
        address: throttleKeys.address(client.sourceIp),
      }
      const attempt = await loginAttempts.begin(keys, client)
      if (!attempt.address.allowed || !attempt.account.allowed) {
        const by = attempt.address.allowed ? 'account' : 'address'
        const retryAfter = Math.max(attempt.address.retryAfter, attempt.account.retryAfter)
        logger.info('login throttled', { ...log, outcome: 'failure', reason: 'throttled', by, retryAfter })
        throw tooManyAttempts(retryAfter)
      }
      if (attempt.account.failures === config.throttle.account.free) {
        logger.warn('login failures reached the free attempts: the account now waits between attempts', { ...log, event: 'auth.throttle' })
      }
      const identity = attempt.identity
      const valid = await passwords.verifyPassword(password, identity?.passwordHash)
      if (!identity || !valid) {
        logger.info('login refused', { ...log, outcome: 'failure', reason: 'invalid_credentials' })
        throw new ApiError('invalid_credentials')
      }
      if (identity.passwordHash && passwords.needsRehash(identity.passwordHash)) await rehash(identity, password)
      if (attempt.secondFactor) {
        // No token before the second factor: a challenge, which remembers the credentials the password proved.
        const state = { identityId: identity.id, credentialsVersion: identity.credentialsVersion, firstFactor: 'pwd' as const }
        const required = await challenges.open(state, loginAttempts.onSuccess(keys))
        logger.info('login needs a second factor', { ...log, outcome: 'success', reason: 'mfa_required', identityId: identity.id })
        return required
      }
      const { session, refresh } = newSession(tokens, client)
      const opening = { ...session, identityId: identity.id, credentialsVersion: identity.credentialsVersion, assurance: PASSWORD_SIGN_IN }
      const claims = await sessions.open(opening, loginAttempts.onSuccess(keys))
      if (!claims) {
        // The password changed after this login verified it: the password it proved is no longer the password.
        logger.info('login refused', { ...log, outcome: 'failure', reason: 'credentials_changed', identityId: identity.id })
        throw new ApiError('invalid_credentials')
      }
      logger.info('login succeeded', { ...log, outcome: 'success', identityId: identity.id, sessionId: session.id })
      return tokens.issuePair({ identityId: identity.id, sessionId: session.id }, refresh, claims)
    },

    async changePassword({ identityId, sessionId }, { current_password, new_password }, client) {
      const identity = await identities.findById(identityId)
      if (!identity) throw bearerRefused('token_invalid')
      const log = { event: 'auth.change_password', identityId, sessionId }
      const weakness = await weaknessOf(commonPasswords, new_password, { login: identity.login, displayName: identity.displayName })
      if (weakness) {
        logger.info('password change refused', { ...log, outcome: 'failure', reason: weakness })
        throw weakPassword(weakness)
      }
      await proveCurrentPassword(deps, passwords, { identity, sessionId, password: current_password, client, event: log.event })
      const next = tokens.newRefreshTokenId()
      const result = await credentials.changePassword({
        identityId,
        verifiedVersion: identity.credentialsVersion,
        passwordHash: await passwords.hashPassword(new_password),
        sessionId,
        next: { refreshTokenId: next.tokenId, refreshIssuedAt: next.issuedAt },
        origin: client,
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
          return {
            success: true,
            message: 'Password changed successfully',
            ...(await tokens.issuePair({ identityId, sessionId }, next, result.claims)),
          }
      }
    },
  }
}
