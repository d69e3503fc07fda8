/**
 * An account's email address (README "Email and password reset"): verifying one, sending the link again,
 * and changing to another. A pending address is never the account's until its link is opened; an address
 * that is another account's verified email gets a notice instead of a link, and the asker the same answer.
 * Each request is counted per source address first; mail is limited per account (one a minute, 5 an hour).
 */
import { ApiError, bearerRefused } from '@attune-auth/client/errors'
import { proveCurrentPassword } from '../auth/current-password.js'
import type { Caller } from '../auth/sessions.js'
import type { Config } from '../config.js'
import type { EmailAddressRepository, MailLimits } from '../db/email-addresses.js'
import type { IdentityRepository } from '../db/identities.js'
import type { SessionRepository } from '../db/sessions.js'
import type { ThrottleRepository } from '../db/throttle.js'
import type { ClientInfo } from '../http/client.js'
import type { Logger } from '../log.js'
import type { PasswordHashing } from '../passwords/hashing.js'
import type { ThrottleKeys } from '../throttle/keys.js'
import type { MailKick } from './kick.js'
import { countEmailRequest } from './limits.js'
import type { ChangeEmailInput, VerifyEmailInput } from './requests.js'
import { EMAIL_TOKEN_PATTERN, emailLink, hashEmailToken, newEmailToken } from './tokens.js'

export interface EmailAddressDependencies {
  /** For ending a session that guesses the current password (lib/auth/current-password.ts). */
  sessions: Pick<SessionRepository, 'revoke'>
  config: Pick<Config, 'email' | 'throttle'>
  emailAddresses: EmailAddressRepository
  identities: IdentityRepository
  throttle: ThrottleRepository
  throttleKeys: ThrottleKeys
  mailKick: MailKick
  logger: Logger
}

export interface EmailVerified {
  email: string
  email_verified: true
}

export interface Accepted {
  accepted: true
}

export function createEmailAddressRules(deps: EmailAddressDependencies) {
  const { config, emailAddresses, throttleKeys, mailKick, logger } = deps

  const limitsFor = (identityId: number): MailLimits => ({
    minute: { key: throttleKeys.accountMail(identityId, 'verify_email', 'minute'), policy: config.throttle.accountMail.minute },
    hourly: { key: throttleKeys.accountMail(identityId, 'verify_email', 'hourly'), policy: config.throttle.accountMail.hourly },
  })

  return {
    limitsFor,

    async verify({ token }: VerifyEmailInput, client: ClientInfo): Promise<EmailVerified> {
      const log = { event: 'auth.email_verify' }
      await countEmailRequest(deps, client, log.event)
      const result = EMAIL_TOKEN_PATTERN.test(token)
        ? await emailAddresses.verify(hashEmailToken(token), client)
        : { outcome: 'invalid' as const }
      switch (result.outcome) {
        case 'invalid':
          logger.info('email verification refused', { ...log, outcome: 'failure', reason: 'email_token_invalid' })
          throw new ApiError('email_token_invalid')
        case 'taken':
          logger.info('email verification refused', { ...log, outcome: 'failure', reason: 'email_taken' })
          throw new ApiError('email_taken')
        case 'verified':
          logger.info('email verified', { ...log, outcome: 'success', identityId: result.identityId })
          return { email: result.email, email_verified: true }
      }
    },

    async resend({ identityId }: Caller, client: ClientInfo): Promise<Accepted> {
      await countEmailRequest(deps, client, 'auth.email_resend')
      const queued = await emailAddresses.resend(
        identityId,
        newEmailToken(),
        (token) => emailLink(config.email.verifyUrl, token),
        config.email.verifyTtl,
        limitsFor(identityId),
        client,
      )
      if (queued) await mailKick()
      logger.info('verification mail asked for again', { event: 'auth.email_resend', outcome: 'success', identityId, queued })
      return { accepted: true }
    },
  }
}

/** Changing the address: the current password first (lib/auth/current-password.ts, as change-password), then as registration. */
export function createEmailChange(deps: EmailAddressDependencies, passwords: PasswordHashing) {
  const { config, identities, emailAddresses, mailKick, logger } = deps
  const rules = createEmailAddressRules(deps)
  return {
    async change({ identityId, sessionId }: Caller, { email, current_password }: ChangeEmailInput, client: ClientInfo): Promise<Accepted> {
      const log = { event: 'auth.email_change', identityId, sessionId }
      await countEmailRequest(deps, client, log.event)
      const identity = await identities.findById(identityId)
      if (!identity) throw bearerRefused('token_invalid')
      await proveCurrentPassword(deps, passwords, { identity, sessionId, password: current_password, client, event: log.event })
      const token = newEmailToken()
      const queued = await emailAddresses.requestChange(
        identityId,
        { email, token, link: emailLink(config.email.verifyUrl, token.token), ttlSeconds: config.email.verifyTtl },
        rules.limitsFor(identityId),
        client,
      )
      if (queued) await mailKick()
      logger.info('email change asked for', { ...log, outcome: 'success', queued })
      return { accepted: true }
    },
  }
}
