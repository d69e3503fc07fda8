/**
 * Password recovery (README "Email and password reset"):
 * - forgot: always `202 {accepted: true}`, after the same two statements whether or not the account exists
 *   or has a verified address (lib/db/recovery.ts), then the mailer is started whatever happened, and never
 *   sooner than FORGOT_ANSWER_FLOOR_MS after the request arrived: the rows a real reset writes (token, outbox,
 *   audit) take a few tenths of a millisecond more, which the floor hides. Only an
 *   account with a verified address, within its mail limits (one a minute, ACCOUNT_MAILS_PER_HOUR an hour),
 *   gets a mail; its earlier reset token stops working.
 * - reset: the token's account must be live; the new password must not be weak (checked before the token is
 *   spent); then one transaction consumes the token and replaces the password, ends every session, clears
 *   the login throttle and queues a notice. No automatic login: the client logs in with the new password.
 * Both are counted per source address (EMAIL_REQUESTS_PER_ADDRESS) before anything else.
 */
import { ApiError } from '@attune-auth/client/errors'
import { weaknessOf } from '../auth/new-passwords.js'
import type { Config } from '../config.js'
import type { CommonPasswordRepository } from '../db/common-passwords.js'
import type { RecoveryRepository } from '../db/recovery.js'
import type { ThrottleRepository } from '../db/throttle.js'
import type { ClientInfo } from '../http/client.js'
import type { Logger } from '../log.js'
import type { SecondFactorCheck } from '../mfa/sign-in.js'
import type { PasswordHashing } from '../passwords/hashing.js'
import type { ThrottleKeys } from '../throttle/keys.js'
import { tooManyAttempts, weakPassword } from '../throttle/refusals.js'
import type { MailKick } from './kick.js'
import { countEmailRequest } from './limits.js'
import type { ForgotPasswordInput, ResetPasswordInput } from './requests.js'
import { EMAIL_TOKEN_PATTERN, emailLink, hashEmailToken, newEmailToken } from './tokens.js'

/**
 * forgot answers no sooner than this after it started. Its work takes about 1–2 ms against a nearby database,
 * plus the mailer's asynchronous invocation on AWS (tens of milliseconds): a floor well above both makes the
 * three cases (unknown, unverified, verified) take the same time.
 */
export const FORGOT_ANSWER_FLOOR_MS = 100

/** Waits until `floorMs` have passed since `startedAt` (a performance.now() value); at once when they have. */
export async function answerNoSoonerThan(startedAt: number, floorMs: number, now: () => number = () => performance.now()): Promise<void> {
  const left = startedAt + floorMs - now()
  if (left > 0) await new Promise((resolve) => setTimeout(resolve, left))
}

export interface Accepted {
  accepted: true
}

export interface RecoveryDependencies {
  config: Pick<Config, 'email' | 'throttle'>
  recovery: RecoveryRepository
  throttleKeys: ThrottleKeys
  mailKick: MailKick
  logger: Logger
}

export interface ResetDependencies extends RecoveryDependencies {
  commonPasswords: CommonPasswordRepository
  throttle: ThrottleRepository
  /** An account with a second factor needs a code of it too: a mailbox alone must not take it over. */
  secondFactor: SecondFactorCheck
}

export function createPasswordRecovery({ config, recovery, throttleKeys, mailKick, logger }: RecoveryDependencies) {
  return {
    async forgot({ login }: ForgotPasswordInput, client: ClientInfo): Promise<Accepted> {
      const startedAt = performance.now()
      const addressKey = throttleKeys.emailRequests(client.sourceIp)
      const found = await recovery.find(addressKey, config.throttle.emailRequests, { loginKey: login.key, email: login.email })
      if (!found.address.allowed) {
        logger.info('password reset throttled', { event: 'auth.password_forgot', outcome: 'failure', reason: 'throttled' })
        throw tooManyAttempts(found.address.retryAfter)
      }
      const token = newEmailToken()
      const target = found.target
      const key = (period: 'minute' | 'hourly') =>
        target ? throttleKeys.accountMail(target.identityId, 'password_reset', period) : throttleKeys.mailStandIn(client.sourceIp, period)
      const queued = await recovery.requestReset({
        target,
        token,
        link: emailLink(config.email.resetUrl, token.token),
        ttlSeconds: config.email.resetTtl,
        limits: {
          minute: { key: key('minute'), policy: config.throttle.accountMail.minute },
          hourly: { key: key('hourly'), policy: config.throttle.accountMail.hourly },
        },
        origin: client,
      })
      // Whatever happened: the time of the answer must not tell.
      await mailKick()
      await answerNoSoonerThan(startedAt, FORGOT_ANSWER_FLOOR_MS)
      logger.info('password reset asked for', {
        event: 'auth.password_forgot',
        outcome: 'success',
        ...(target ? { identityId: target.identityId } : {}),
        queued,
      })
      return { accepted: true }
    },
  }
}

export function createPasswordReset(deps: ResetDependencies, passwords: PasswordHashing) {
  const { recovery, throttleKeys, mailKick, logger, commonPasswords, secondFactor } = deps
  return {
    async reset({ token, new_password, code, recovery_code }: ResetPasswordInput, client: ClientInfo): Promise<{ success: true }> {
      const log = { event: 'auth.password_reset' }
      await countEmailRequest(deps, client, log.event)
      const tokenHash = EMAIL_TOKEN_PATTERN.test(token) ? hashEmailToken(token) : undefined
      const account = tokenHash && (await recovery.peekReset(tokenHash))
      if (!tokenHash || !account) {
        logger.info('password reset refused', { ...log, outcome: 'failure', reason: 'email_token_invalid' })
        throw new ApiError('email_token_invalid')
      }
      const weakness = await weaknessOf(commonPasswords, new_password, { login: account.login, displayName: account.displayName })
      if (weakness) {
        logger.info('password reset refused', { ...log, outcome: 'failure', reason: weakness, identityId: account.identityId })
        throw weakPassword(weakness)
      }
      if (await secondFactor.required(account.identityId)) {
        const factor = code !== undefined ? { code } : recovery_code !== undefined ? { recoveryCode: recovery_code } : undefined
        if (!factor) {
          logger.info('password reset refused', { ...log, outcome: 'failure', reason: 'mfa_code_invalid', identityId: account.identityId })
          throw new ApiError('mfa_code_invalid', { message: 'This account has two-factor authentication: send a code or a recovery code' })
        }
        await secondFactor.prove(account.identityId, factor, client, log.event)
      }
      const result = await recovery.completeReset({
        tokenHash,
        passwordHash: await passwords.hashPassword(new_password),
        throttleKeys: [throttleKeys.login(account.loginKey), throttleKeys.identity(account.identityId)],
        origin: client,
      })
      if (result.outcome === 'invalid') {
        // Another reset with the same token won the race.
        logger.info('password reset refused', { ...log, outcome: 'failure', reason: 'email_token_invalid', identityId: account.identityId })
        throw new ApiError('email_token_invalid')
      }
      await mailKick()
      logger.info('password reset', { ...log, outcome: 'success', identityId: account.identityId, sessionsEnded: result.sessionsEnded })
      return { success: true }
    },
  }
}

export type PasswordRecovery = ReturnType<typeof createPasswordRecovery>
export type PasswordReset = ReturnType<typeof createPasswordReset>
