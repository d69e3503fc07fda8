/**
 * The seed's authentication rules — register, login, refresh, me, change-password — and the sessions
 * they open: refresh rotation with replay detection, logout, listing and ending sessions.
 * Storage and tokens are passed in, so tests use the real database and real tokens.
 */
import { randomUUID } from 'node:crypto'
import type { CredentialRepository } from './db/credentials.js'
import type { Identity, IdentityRepository } from './db/identities.js'
import { LoginTakenError } from './db/identities.js'
import type { SessionRepository } from './db/sessions.js'
import { ApiError, bearerRefused, conflict, MESSAGES, unauthorized } from './errors.js'
import type { Logger } from './log.js'
import type { PasswordHashing } from './passwords.js'
import type { Pseudonymize } from './pseudonyms.js'
import type { ChangePasswordInput, LoginInput, LogoutInput, RefreshInput, RegisterInput } from './schemas.js'
import type { TokenPair, TokenService, VerifiedToken } from './tokens.js'
import { TokenError } from './tokens.js'

/** `GET /auth/me`'s body. */
export interface Profile {
  id: number
  login: string
  display_name: string | null
}

/**
 * `POST /auth/change-password`'s body: the seed's two fields, and the session's new token pair (its
 * refresh token from before the change no longer works).
 */
export interface PasswordChanged extends TokenPair {
  success: true
  message: 'Password changed successfully'
}

/** One entry of `GET /auth/sessions`. */
export interface SessionView {
  id: string
  created: string
  last_used: string
  user_agent: string | null
  source_ip: string | null
  current: boolean
}

export interface LoggedOut {
  success: true
  sessions_ended: number
}

/** Where a request came from, recorded on the session it opens. */
export interface ClientInfo {
  userAgent: string | null
  sourceIp: string | null
}

/** The caller of a protected route, as the authorizer established it. */
export interface Caller {
  identityId: number
  sessionId: string
}

export interface AuthService {
  register(input: RegisterInput, client: ClientInfo): Promise<TokenPair>
  login(input: LoginInput, client: ClientInfo): Promise<TokenPair>
  refresh(input: RefreshInput): Promise<TokenPair>
  profile(caller: Caller): Promise<Profile>
  changePassword(caller: Caller, input: ChangePasswordInput): Promise<PasswordChanged>
  logout(caller: Caller, input: LogoutInput): Promise<LoggedOut>
  listSessions(caller: Caller): Promise<SessionView[]>
  endSession(caller: Caller, sessionId: string): Promise<LoggedOut>
}

export interface AuthDependencies {
  identities: IdentityRepository
  sessions: SessionRepository
  credentials: CredentialRepository
  tokens: TokenService
  logger: Logger
  /** Keyed hashes of typed logins for the logs (a login field sometimes holds a password). */
  pseudonymize: Pseudonymize
  /** Seconds during which a just-retired refresh token gets the same successor instead of counting as a replay. */
  refreshReuseGrace: number
  /**
   * Argon2 hashing, for register, login and change-password. Passed in by those functions only, so the
   * others' bundles carry no WebAssembly Argon2 (docs/PERFORMANCE.md).
   */
  passwords?: PasswordHashing | undefined
}

export function createAuthService(deps: AuthDependencies): AuthService {
  const { identities, sessions, credentials, tokens, logger, pseudonymize } = deps
  const passwords = (): PasswordHashing => {
    if (!deps.passwords) throw new Error('password hashing is not wired into this function (pass passwordHashing to getApp)')
    return deps.passwords
  }

  /** A new session's ids and where it was opened from; the refresh token's id and issue time are stored with it. */
  function newSession(client: ClientInfo) {
    const refresh = tokens.newRefreshTokenId()
    const session = {
      id: randomUUID(),
      refreshTokenId: refresh.tokenId,
      refreshIssuedAt: refresh.issuedAt,
      userAgent: client.userAgent,
      sourceIp: client.sourceIp,
    }
    return { session, refresh }
  }

  /** Opens a session for a login whose password verified at `identity.credentialsVersion`; 401 if it changed since. */
  async function openSession(identity: Identity, client: ClientInfo, loginHash: string): Promise<TokenPair> {
    const { session, refresh } = newSession(client)
    if (!(await sessions.open({ ...session, identityId: identity.id, credentialsVersion: identity.credentialsVersion }))) {
      logger.info('login refused', {
        event: 'auth.login',
        outcome: 'failure',
        reason: 'credentials_changed',
        identityId: identity.id,
        loginHash,
      })
      throw unauthorized(MESSAGES.invalidCredentials)
    }
    logger.info('login succeeded', { event: 'auth.login', outcome: 'success', identityId: identity.id, sessionId: session.id, loginHash })
    return tokens.issuePair({ identityId: identity.id, sessionId: session.id }, refresh)
  }

  /** The password just proved right, hashed again at today's parameters; a failure is logged, the login goes on. */
  async function rehash(identity: Identity, password: string): Promise<void> {
    try {
      await identities.rehashPassword(identity.id, identity.credentialsVersion, await passwords().hashPassword(password))
      logger.info('password rehashed', { event: 'auth.rehash', outcome: 'success', identityId: identity.id })
    } catch (error) {
      logger.warn('password rehash failed', { event: 'auth.rehash', outcome: 'failure', identityId: identity.id, error })
    }
  }

  return {
    async register({ login, password, display_name }, client) {
      const passwordHash = await passwords().hashPassword(password)
      const { session, refresh } = newSession(client)
      let identity: Identity
      try {
        // The identity and its first session in one statement: a failure leaves neither behind.
        identity = await identities.create({ login, displayName: display_name || null, passwordHash }, session)
      } catch (error) {
        if (error instanceof LoginTakenError) {
          logger.info('registration refused', {
            event: 'auth.register',
            outcome: 'failure',
            reason: 'login_taken',
            loginHash: pseudonymize(login),
          })
          throw conflict(MESSAGES.loginTaken)
        }
        throw error
      }
      logger.info('identity registered', { event: 'auth.register', outcome: 'success', identityId: identity.id, sessionId: session.id })
      return tokens.issuePair({ identityId: identity.id, sessionId: session.id }, refresh)
    },

    async login({ login, password }, client) {
      const loginHash = pseudonymize(login)
      const identity = await identities.findByLogin(login)
      // Always one Argon2 verification: an unknown login is checked against a dummy hash of equal cost.
      const valid = await passwords().verifyPassword(password, identity?.passwordHash)
      if (!identity || !valid) {
        logger.info('login refused', { event: 'auth.login', outcome: 'failure', reason: 'invalid_credentials', loginHash })
        throw unauthorized(MESSAGES.invalidCredentials)
      }
      if (identity.passwordHash && passwords().needsRehash(identity.passwordHash)) await rehash(identity, password)
      return openSession(identity, client, loginHash)
    },

    async refresh({ refresh_token }) {
      let presented: VerifiedToken
      try {
        presented = await tokens.verifyRefreshToken(refresh_token)
      } catch (error) {
        if (!(error instanceof TokenError)) throw error
        logger.info('refresh refused', { event: 'auth.refresh', outcome: 'failure', reason: `token_${error.reason}` })
        throw unauthorized(error.reason === 'expired' ? MESSAGES.expiredRefreshToken : MESSAGES.invalidRefreshToken)
      }
      const next = tokens.newRefreshTokenId()
      const result = await sessions.rotate({
        identityId: presented.identityId,
        sessionId: presented.sessionId,
        presentedTokenId: presented.tokenId,
        next: { refreshTokenId: next.tokenId, refreshIssuedAt: next.issuedAt },
        graceSeconds: deps.refreshReuseGrace,
      })
      const log = { event: 'auth.refresh', identityId: presented.identityId, sessionId: presented.sessionId }
      switch (result.outcome) {
        case 'ended':
          logger.info('refresh refused', { ...log, outcome: 'failure', reason: 'session_ended' })
          throw unauthorized(MESSAGES.invalidRefreshToken)
        case 'reused':
          logger.warn('refresh token replayed: session revoked', { ...log, outcome: 'failure', reason: 'refresh_token_reused' })
          throw new ApiError('REFRESH_TOKEN_REUSED', MESSAGES.refreshTokenReused)
        case 'rotated':
        case 'grace':
          if (result.outcome === 'grace') {
            // An honest retry, or a thief who was first: either way only the same pair is answered again.
            logger.warn('retired refresh token presented within the grace window: the same pair answered again', {
              ...log,
              outcome: 'success',
              reason: 'refresh_grace',
            })
          } else logger.info('tokens refreshed', { ...log, outcome: 'success' })
          return tokens.issuePair(
            { identityId: presented.identityId, sessionId: presented.sessionId },
            { tokenId: result.refreshTokenId, issuedAt: result.refreshIssuedAt },
          )
      }
    },

    async profile({ identityId }) {
      const identity = await identities.findById(identityId)
      if (!identity) throw bearerRefused(MESSAGES.invalidToken)
      return { id: identity.id, login: identity.login, display_name: identity.displayName }
    },

    async changePassword({ identityId, sessionId }, { current_password, new_password }) {
      const identity = await identities.findById(identityId)
      const valid = await passwords().verifyPassword(current_password, identity?.passwordHash)
      if (!identity) throw bearerRefused(MESSAGES.invalidToken)
      const log = { event: 'auth.change_password', identityId, sessionId }
      if (!valid) {
        logger.info('password change refused', { ...log, outcome: 'failure', reason: 'invalid_current_password' })
        throw new ApiError('UNAUTHORIZED', MESSAGES.invalidCurrentPassword)
      }
      const next = tokens.newRefreshTokenId()
      const result = await credentials.changePassword({
        identityId,
        verifiedVersion: identity.credentialsVersion,
        passwordHash: await passwords().hashPassword(new_password),
        sessionId,
        next: { refreshTokenId: next.tokenId, refreshIssuedAt: next.issuedAt },
      })
      switch (result.outcome) {
        case 'stale':
          // Another change committed after this one verified the password: the one verified is no longer current.
          logger.info('password change refused', { ...log, outcome: 'failure', reason: 'credentials_changed' })
          throw new ApiError('UNAUTHORIZED', MESSAGES.invalidCurrentPassword)
        case 'session_ended':
          logger.info('password change refused', { ...log, outcome: 'failure', reason: 'session_ended' })
          throw bearerRefused(MESSAGES.sessionEnded)
        case 'changed':
          logger.info('password changed', { ...log, outcome: 'success', otherSessionsEnded: result.otherSessionsEnded })
          return { success: true, message: 'Password changed successfully', ...(await tokens.issuePair({ identityId, sessionId }, next)) }
      }
    },

    async logout({ identityId, sessionId }, { scope }) {
      const ended =
        scope === 'global'
          ? await sessions.revokeAll(identityId, 'logout_all')
          : scope === 'others'
            ? await sessions.revokeAll(identityId, 'logout_others', sessionId)
            : Number(await sessions.revoke(identityId, sessionId, 'logout'))
      logger.info('logged out', { event: 'auth.logout', outcome: 'success', identityId, sessionId, scope, sessionsEnded: ended })
      return { success: true, sessions_ended: ended }
    },

    async listSessions({ identityId, sessionId }) {
      const active = await sessions.listActive(identityId)
      return active.map((s) => ({
        id: s.id,
        created: s.created.toISOString(),
        last_used: s.lastUsed.toISOString(),
        user_agent: s.userAgent,
        source_ip: s.sourceIp,
        current: s.id === sessionId,
      }))
    },

    async endSession({ identityId }, sessionId) {
      const ended = await sessions.revoke(identityId, sessionId, 'ended_by_user')
      if (!ended) throw new ApiError('NOT_FOUND', MESSAGES.sessionNotFound)
      logger.info('session ended', { event: 'auth.session_end', outcome: 'success', identityId, sessionId })
      return { success: true, sessions_ended: 1 }
    },
  }
}
