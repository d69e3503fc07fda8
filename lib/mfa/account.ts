/**
 * The two-factor routes of a signed-in identity (Bearer): enrol a TOTP factor (the current password, or a
 * sign-in within STEP_UP_MAX_AGE), activate it (recovery codes once, and this session raised to aal2 in place,
 * the others ended by default), see it, remove it or renew the recovery codes (each with a fresh code: an open
 * session alone is never enough), and reauthenticate (a password or a code raises this session's auth_time,
 * and a code its acr, rotating its refresh token in the same statement).
 */

import { ApiError, bearerRefused, stepUpRequired } from '@attune-auth/client/errors'
import type { AuthenticatedUser } from '@attune-auth/client/require-auth'
import type { App } from '../app.js'
import type { CurrentPasswordDependencies } from '../auth/current-password.js'
import { proveCurrentPassword } from '../auth/current-password.js'
import type { IdentityRepository } from '../db/identities.js'
import type { SessionAssurance } from '../db/session-assurance.js'
import type { ClientInfo } from '../http/client.js'
import type { PasswordHashing } from '../passwords/hashing.js'
import type { TokenPair } from '../tokens/service.js'
import type { Enrolment, MfaStatus, SecondFactorMethod } from './factors.js'
import type { ActivateInput, EnrolInput, ReauthenticateInput, SecondFactorInput } from './requests.js'
import { secondFactorOf } from './requests.js'
import type { SecondFactorDependencies } from './sign-in.js'
import { proveSecondFactor } from './sign-in.js'

export type MfaAccountDependencies = SecondFactorDependencies &
  Pick<App, 'tokens'> &
  CurrentPasswordDependencies & {
    identities: Pick<IdentityRepository, 'findById'>
    passwords: PasswordHashing
    assurance: SessionAssurance
    /** The clock (milliseconds since the epoch), for the recency of a sign-in. */
    now: () => number
  }

export function createMfaAccount(deps: MfaAccountDependencies) {
  const { config, factors, assurance, tokens, identities, passwords, logger, now } = deps

  async function provePassword(user: AuthenticatedUser, password: string, client: ClientInfo, event: string): Promise<void> {
    const identity = await identities.findById(user.identityId)
    if (!identity) throw bearerRefused('token_invalid')
    await proveCurrentPassword(deps, passwords, { identity, sessionId: user.sessionId, password, client, event })
  }

  /** This session, raised by `method` in place: its new token pair. */
  async function raise(
    user: AuthenticatedUser,
    method: 'pwd' | SecondFactorMethod,
    client: ClientInfo,
    endOthers: boolean,
  ): Promise<TokenPair> {
    const next = tokens.newRefreshTokenId()
    const claims = await assurance.reauthenticate({
      identityId: user.identityId,
      sessionId: user.sessionId,
      method,
      next: { refreshTokenId: next.tokenId, refreshIssuedAt: next.issuedAt },
      origin: client,
      ...(endOthers ? { endOthers: 'mfa_enabled' as const } : {}),
    })
    if (!claims) throw bearerRefused('session_ended')
    return tokens.issuePair({ identityId: user.identityId, sessionId: user.sessionId }, next, claims)
  }

  /** The factor `factorId` is the identity's active one, or a 404 (before any code is spent on it). */
  async function activeFactor(user: AuthenticatedUser, factorId: string): Promise<void> {
    if ((await factors.activeFactorId(user.identityId)) !== factorId) throw new ApiError('mfa_factor_not_found')
  }

  return {
    async enrol(user: AuthenticatedUser, { current_password }: EnrolInput, client: ClientInfo): Promise<Enrolment> {
      const event = 'auth.mfa_enrol'
      if (current_password !== undefined) await provePassword(user, current_password, client, event)
      else if (Math.floor(now() / 1000) - user.authTime > config.mfa.stepUpMaxAge) {
        throw stepUpRequired({ maxAge: config.mfa.stepUpMaxAge })
      }
      const enrolment = await factors.enrolTotp(user.identityId, user.login)
      logger.info('second factor enrolment started', { event, outcome: 'success', identityId: user.identityId })
      return enrolment
    },

    async activate(
      user: AuthenticatedUser,
      factorId: string,
      { code, end_other_sessions }: ActivateInput,
      client: ClientInfo,
    ): Promise<{ recovery_codes: string[] } & TokenPair> {
      const { recovery_codes } = await factors.activateTotp(user.identityId, factorId, code, client)
      logger.info('second factor activated', { event: 'auth.mfa_activate', outcome: 'success', identityId: user.identityId })
      return { recovery_codes, ...(await raise(user, 'otp', client, end_other_sessions)) }
    },

    status: (user: AuthenticatedUser): Promise<MfaStatus> => factors.status(user.identityId),

    async remove(user: AuthenticatedUser, factorId: string, proof: SecondFactorInput, client: ClientInfo): Promise<{ removed: true }> {
      const event = 'auth.mfa_remove'
      await activeFactor(user, factorId)
      await proveSecondFactor(deps, user.identityId, secondFactorOf(proof), client, event)
      await factors.remove(user.identityId, factorId, client)
      logger.info('second factor removed', { event, outcome: 'success', identityId: user.identityId })
      return { removed: true }
    },

    async regenerateRecoveryCodes(
      user: AuthenticatedUser,
      proof: SecondFactorInput,
      client: ClientInfo,
    ): Promise<{ recovery_codes: string[] }> {
      const event = 'auth.mfa_recovery_codes'
      const factorId = await factors.activeFactorId(user.identityId)
      if (!factorId) throw new ApiError('mfa_factor_not_found')
      await proveSecondFactor(deps, user.identityId, secondFactorOf(proof), client, event)
      return factors.regenerateRecoveryCodes(user.identityId, client)
    },

    async reauthenticate(user: AuthenticatedUser, { password, ...proof }: ReauthenticateInput, client: ClientInfo): Promise<TokenPair> {
      const event = 'auth.reauthenticate'
      let method: 'pwd' | SecondFactorMethod = 'pwd'
      if (password !== undefined) await provePassword(user, password, client, event)
      else {
        if (!(await factors.activeFactorId(user.identityId))) throw new ApiError('mfa_factor_not_found')
        method = await proveSecondFactor(deps, user.identityId, secondFactorOf(proof), client, event)
      }
      const pair = await raise(user, method, client, false)
      logger.info('session reauthenticated', { event, outcome: 'success', identityId: user.identityId, sessionId: user.sessionId })
      return pair
    },
  }
}

export type MfaAccount = ReturnType<typeof createMfaAccount>
