/**
 * The seed's authentication rules: register, login, refresh, me, change-password.
 * Storage, tokens and the clock are passed in, so tests use the real database and real tokens.
 */
import type { Identity, IdentityRepository } from './db/identities.js'
import { LoginTakenError } from './db/identities.js'
import { ApiError, MESSAGES, conflict, unauthorized } from './errors.js'
import type { Logger } from './log.js'
import { hashPassword, verifyPassword } from './passwords.js'
import type { ChangePasswordInput, LoginInput, RefreshInput, RegisterInput } from './schemas.js'
import type { TokenPair, TokenService } from './tokens.js'
import { TokenError } from './tokens.js'

/** `GET /auth/me`'s body. */
export interface Profile {
  id: number
  login: string
  display_name: string | null
}

/** `POST /auth/change-password`'s body. */
export interface PasswordChanged {
  success: true
  message: 'Password changed successfully'
}

export interface AuthService {
  register(input: RegisterInput): Promise<TokenPair>
  login(input: LoginInput): Promise<TokenPair>
  refresh(input: RefreshInput): Promise<TokenPair>
  profile(identityId: number): Promise<Profile>
  changePassword(identityId: number, input: ChangePasswordInput): Promise<PasswordChanged>
}

export interface AuthDependencies {
  identities: IdentityRepository
  tokens: TokenService
  logger: Logger
}

export function createAuthService({ identities, tokens, logger }: AuthDependencies): AuthService {
  const issue = (identity: Identity): Promise<TokenPair> => tokens.issuePair({ identityId: identity.id, login: identity.login })

  return {
    async register({ login, password, display_name }) {
      const passwordHash = await hashPassword(password)
      let identity: Identity
      try {
        identity = await identities.create({ login, displayName: display_name || null, passwordHash })
      } catch (error) {
        if (error instanceof LoginTakenError) {
          logger.info('registration refused', { event: 'auth.register', outcome: 'failure', reason: 'login_taken', login })
          throw conflict(MESSAGES.loginTaken)
        }
        throw error
      }
      logger.info('identity registered', { event: 'auth.register', outcome: 'success', identityId: identity.id, login: identity.login })
      return issue(identity)
    },

    async login({ login, password }) {
      const identity = await identities.findByLogin(login)
      // Always one Argon2 verification: an unknown login is checked against a dummy hash of equal cost.
      const valid = await verifyPassword(password, identity?.passwordHash)
      if (!identity || !valid) {
        logger.info('login refused', { event: 'auth.login', outcome: 'failure', reason: 'invalid_credentials', login })
        throw unauthorized(MESSAGES.invalidCredentials)
      }
      logger.info('login succeeded', { event: 'auth.login', outcome: 'success', identityId: identity.id, login: identity.login })
      return issue(identity)
    },

    async refresh({ refresh_token }) {
      let identityId: number
      try {
        ;({ identityId } = await tokens.verifyRefreshToken(refresh_token))
      } catch (error) {
        if (!(error instanceof TokenError)) throw error
        logger.info('refresh refused', { event: 'auth.refresh', outcome: 'failure', reason: `token_${error.reason}` })
        throw unauthorized(error.reason === 'expired' ? MESSAGES.expiredRefreshToken : MESSAGES.invalidRefreshToken)
      }
      const identity = await identities.findById(identityId)
      if (!identity) {
        logger.info('refresh refused', { event: 'auth.refresh', outcome: 'failure', reason: 'identity_gone', identityId })
        throw unauthorized(MESSAGES.invalidRefreshToken)
      }
      logger.info('tokens refreshed', { event: 'auth.refresh', outcome: 'success', identityId })
      return issue(identity)
    },

    async profile(identityId) {
      const identity = await identities.findById(identityId)
      if (!identity) throw unauthorized(MESSAGES.invalidToken)
      return { id: identity.id, login: identity.login, display_name: identity.displayName }
    },

    async changePassword(identityId, { current_password, new_password }) {
      const identity = await identities.findById(identityId)
      const valid = await verifyPassword(current_password, identity?.passwordHash)
      if (!identity) throw unauthorized(MESSAGES.invalidToken)
      if (!valid) {
        logger.info('password change refused', { event: 'auth.change_password', outcome: 'failure', reason: 'invalid_current_password', identityId })
        throw new ApiError('UNAUTHORIZED', MESSAGES.invalidCurrentPassword)
      }
      await identities.updatePasswordHash(identity.id, await hashPassword(new_password))
      logger.info('password changed', { event: 'auth.change_password', outcome: 'success', identityId })
      return { success: true, message: 'Password changed successfully' }
    },
  }
}
