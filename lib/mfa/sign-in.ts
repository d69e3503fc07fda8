/**
 * `POST /auth/mfa/verify`: the second half of a login for an identity with a second factor. The login's
 * `mfa_token` names the challenge (five attempts, five minutes, single use); a TOTP code or a recovery code
 * passes it. Failed codes count in their own throttle pool per identity (MFA_MAX_FAILURES, then 429 for
 * MFA_BLOCK_SECONDS), apart from the password's. The session opens at aal2, and only while the credentials
 * are still the ones the password proved (a password change in between refuses it).
 */
import { ApiError } from '@attune-auth/client/errors'
import type { App } from '../app.js'
import { newSession } from '../auth/sessions.js'
import type { MailKick } from '../email/kick.js'
import type { ClientInfo } from '../http/client.js'
import { tooManyAttempts } from '../throttle/refusals.js'
import type { TokenPair } from '../tokens/service.js'
import type { Challenges } from './challenges.js'
import type { MfaRules, SecondFactor, SecondFactorMethod } from './factors.js'
import type { VerifyInput } from './requests.js'
import { secondFactorOf } from './requests.js'

/** What proving a second factor needs: the rules and the identity's MFA throttle pool. */
export type SecondFactorDependencies = Pick<App, 'config' | 'throttle' | 'throttleKeys' | 'logger'> & {
  factors: MfaRules
  /** Starts the mailer: a spent recovery code queues a notice to the account's address. */
  mailKick: MailKick
}

export type MfaSignInDependencies = SecondFactorDependencies & Pick<App, 'sessions' | 'tokens' | 'identities'> & { challenges: Challenges }

/** A code of the identity's second factor, counted in its MFA pool: the method that passed, or a 401/429. */
export async function proveSecondFactor(
  { config, throttle, throttleKeys, factors, logger, mailKick }: SecondFactorDependencies,
  identityId: number,
  factor: SecondFactor,
  client: ClientInfo,
  event: string,
): Promise<SecondFactorMethod> {
  const key = throttleKeys.mfa(identityId)
  const counted = await throttle.count(key, config.throttle.mfa)
  if (!counted.allowed) {
    logger.info('second factor throttled', { event, identityId, outcome: 'failure', reason: 'throttled', retryAfter: counted.retryAfter })
    throw tooManyAttempts(counted.retryAfter)
  }
  const method = await factors.verify(identityId, factor, client)
  if (!method) {
    logger.info('second factor refused', { event, identityId, outcome: 'failure', reason: 'mfa_code_invalid' })
    throw new ApiError('mfa_code_invalid')
  }
  await throttle.reset(key)
  if (method === 'rc') await mailKick()
  return method
}

/** What a route that takes a second factor beside another credential (a password reset) needs. */
export interface SecondFactorCheck {
  required(identityId: number): Promise<boolean>
  /** The method that passed, or the route's 401/429 (counted in the identity's MFA pool). */
  prove(identityId: number, factor: SecondFactor, client: ClientInfo, event: string): Promise<SecondFactorMethod>
}

export function secondFactorCheck(deps: SecondFactorDependencies): SecondFactorCheck {
  return {
    required: async (identityId) => (await deps.factors.activeFactorId(identityId)) !== undefined,
    prove: (identityId, factor, client, event) => proveSecondFactor(deps, identityId, factor, client, event),
  }
}

export function createMfaSignIn(deps: MfaSignInDependencies) {
  const { challenges, sessions, tokens, identities, logger } = deps
  return {
    async verify({ mfa_token, code, recovery_code }: VerifyInput, client: ClientInfo): Promise<TokenPair> {
      const log = { event: 'auth.mfa_verify' }
      const state = await challenges.attempt(mfa_token)
      if (!state) {
        logger.info('second factor refused', { ...log, outcome: 'failure', reason: 'mfa_token_invalid' })
        throw new ApiError('mfa_token_invalid')
      }
      const { identityId, credentialsVersion, firstFactor } = state
      // The password changed since the login: refused before a code (a recovery code above all) is spent on it.
      if ((await identities.findById(identityId))?.credentialsVersion !== credentialsVersion) {
        logger.info('second factor refused', { ...log, outcome: 'failure', reason: 'credentials_changed', identityId })
        throw new ApiError('mfa_token_invalid')
      }
      const method = await proveSecondFactor(deps, identityId, secondFactorOf({ code, recovery_code }), client, log.event)
      // Single use: of two requests racing with good codes, one signs in.
      if (!(await challenges.close(mfa_token))) throw new ApiError('mfa_token_invalid')
      const { session, refresh } = newSession(tokens, client)
      const claims = await sessions.open({
        ...session,
        identityId,
        credentialsVersion,
        assurance: { acr: 'aal2', amr: [firstFactor, method] },
      })
      if (!claims) {
        logger.info('second factor refused', { ...log, outcome: 'failure', reason: 'credentials_changed', identityId })
        throw new ApiError('mfa_token_invalid')
      }
      logger.info('login succeeded', { ...log, outcome: 'success', identityId, sessionId: session.id, method })
      return tokens.issuePair({ identityId, sessionId: session.id }, refresh, claims)
    },
  }
}
