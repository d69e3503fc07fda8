/**
 * The rules of sessions that exist: refresh-token rotation with replay detection, the caller's profile,
 * logout, listing and ending sessions. Nothing here hashes a password, so the functions that use only these
 * rules carry no Argon2 (docs/PERFORMANCE.md).
 */
import { randomUUID } from 'node:crypto'
import { ApiError, bearerRefused } from '@attune-auth/client/errors'
import type { AuthenticatedUser } from '@attune-auth/client/require-auth'
import type { Config } from '../config.js'
import type { IdentityRepository } from '../db/identities.js'
import type { SessionRepository } from '../db/sessions.js'
import type { ThrottleRepository } from '../db/throttle.js'
import type { ClientInfo } from '../http/client.js'
import type { Logger } from '../log.js'
import type { ThrottleKeys } from '../throttle/keys.js'
import { tooManyAttempts } from '../throttle/refusals.js'
import type { RefreshTokenId, TokenPair, TokenService, VerifiedToken } from '../tokens/service.js'
import { TokenError } from '../tokens/service.js'
import type { LogoutInput, RefreshInput } from './requests.js'

/** The caller of a protected route, as the authorizer established it. */
export type Caller = Pick<AuthenticatedUser, 'identityId' | 'sessionId'>

/** `GET /auth/me`'s body. */
export interface Profile {
  id: number
  login: string
  display_name: string | null
  /** The verified address, else the one waiting for verification, else null. */
  email: string | null
  email_verified: boolean
  /** What the identity may do now (README "Roles and permissions"). */
  roles: string[]
  permissions: string[]
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

export interface SessionRules {
  /** Junk (a token that does not verify) counts as a failure of the source address, which is throttled like logins. */
  refresh(input: RefreshInput, client: ClientInfo): Promise<TokenPair>
  profile(caller: Caller): Promise<Profile>
  logout(caller: Caller, input: LogoutInput, client: ClientInfo): Promise<LoggedOut>
  listSessions(caller: Caller): Promise<SessionView[]>
  endSession(caller: Caller, sessionId: string, client: ClientInfo): Promise<LoggedOut>
}

export interface SessionRuleDependencies {
  config: Pick<Config, 'jwt' | 'throttle'>
  identities: IdentityRepository
  sessions: SessionRepository
  throttle: ThrottleRepository
  throttleKeys: ThrottleKeys
  tokens: TokenService
  logger: Logger
}

/** A new session's ids, its first refresh token's, and where it is opened from (login and registration). */
export function newSession(tokens: TokenService, client: ClientInfo) {
  const refresh: RefreshTokenId = tokens.newRefreshTokenId()
  const session = {
    id: randomUUID(),
    refreshTokenId: refresh.tokenId,
    refreshIssuedAt: refresh.issuedAt,
    requestId: client.requestId,
    userAgent: client.userAgent,
    sourceIp: client.sourceIp,
  }
  return { session, refresh }
}

export function createSessionRules(deps: SessionRuleDependencies): SessionRules {
  const { config, identities, sessions, throttle, throttleKeys, tokens, logger } = deps
  return {
    async refresh({ refresh_token }, client) {
      let presented: VerifiedToken
      try {
        presented = await tokens.verifyRefreshToken(refresh_token)
      } catch (error) {
        if (!(error instanceof TokenError)) throw error
        const counted = await throttle.count(throttleKeys.address(client.sourceIp), config.throttle.address)
        if (!counted.allowed) {
          logger.info('refresh throttled', {
            event: 'auth.refresh',
            outcome: 'failure',
            reason: 'throttled',
            retryAfter: counted.retryAfter,
          })
          throw tooManyAttempts(counted.retryAfter)
        }
        logger.info('refresh refused', { event: 'auth.refresh', outcome: 'failure', reason: `token_${error.reason}` })
        throw new ApiError(error.reason === 'expired' ? 'refresh_token_expired' : 'refresh_token_invalid')
      }
      const next = tokens.newRefreshTokenId()
      const result = await sessions.rotate({
        identityId: presented.identityId,
        sessionId: presented.sessionId,
        presentedTokenId: presented.tokenId,
        next: { refreshTokenId: next.tokenId, refreshIssuedAt: next.issuedAt },
        graceSeconds: config.jwt.refreshReuseGrace,
        origin: client,
      })
      const log = { event: 'auth.refresh', identityId: presented.identityId, sessionId: presented.sessionId }
      switch (result.outcome) {
        case 'ended':
          logger.info('refresh refused', { ...log, outcome: 'failure', reason: 'session_ended' })
          throw new ApiError('refresh_token_invalid')
        case 'reused':
          logger.warn('refresh token replayed: session revoked', { ...log, outcome: 'failure', reason: 'refresh_token_reused' })
          throw new ApiError('refresh_token_reused')
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
            result.claims,
          )
      }
    },

    async profile({ identityId }) {
      const identity = await identities.findProfile(identityId)
      if (!identity) throw bearerRefused('token_invalid')
      return {
        id: identity.id,
        login: identity.login,
        display_name: identity.displayName,
        email: identity.email ?? identity.pendingEmail,
        email_verified: identity.email !== null,
        roles: identity.roles,
        permissions: identity.permissions,
      }
    },

    async logout({ identityId, sessionId }, { scope }, client) {
      const ended =
        scope === 'global'
          ? await sessions.revokeAll(identityId, 'logout_all', client)
          : scope === 'others'
            ? await sessions.revokeAll(identityId, 'logout_others', client, sessionId)
            : Number(await sessions.revoke(identityId, sessionId, 'logout', client))
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

    async endSession({ identityId }, sessionId, client) {
      const ended = await sessions.revoke(identityId, sessionId, 'ended_by_user', client)
      if (!ended) throw new ApiError('session_not_found')
      logger.info('session ended', { event: 'auth.session_end', outcome: 'success', identityId, sessionId })
      return { success: true, sessions_ended: 1 }
    },
  }
}
