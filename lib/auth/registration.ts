/**
 * Registration: a new identity and its first session, in one statement (a failure leaves neither). It needs
 * Argon2 and the login's confusable skeleton, both passed in, so only the register function carries the
 * skeleton's confusables data (lib/logins/skeleton.ts).
 *
 * A login is taken when its canonical key or its skeleton is an existing login's: `Alice`, `ａｌｉｃｅ` and
 * a Cyrillic `аlice` are all the account `alice`. Both are unique indexes; the answer is the same 409.
 *
 * An optional email is not the account's until verified: the same statement stores its token and queues the
 * verification mail (or, when the address is another account's, a notice to it: the answer is the same).
 *
 * Before any Argon2: registrations are counted per source address (429 past the limit), and the password
 * must not be weak (400 WEAK_PASSWORD, lib/passwords/strength.ts); both questions go to the database at once.
 */
import { ApiError } from '@attune-auth/client/errors'
import type { Config } from '../config.js'
import type { CommonPasswordRepository } from '../db/common-passwords.js'
import type { IdentityRepository } from '../db/identities.js'
import { LoginTakenError } from '../db/identities.js'
import type { ThrottleRepository } from '../db/throttle.js'
import type { MailKick } from '../email/kick.js'
import { emailLink, newEmailToken } from '../email/tokens.js'
import type { ClientInfo } from '../http/client.js'
import type { Logger } from '../log.js'
import type { PasswordHashing } from '../passwords/hashing.js'
import { commonPasswordDigest, localWeakness } from '../passwords/strength.js'
import type { Pseudonymize } from '../pseudonyms.js'
import type { ThrottleKeys } from '../throttle/keys.js'
import { tooManyAttempts, weakPassword } from '../throttle/refusals.js'
import type { TokenPair, TokenService } from '../tokens/service.js'
import { newIdentityClaims } from '../tokens/service.js'
import type { RegisterInput } from './requests.js'
import { newSession } from './sessions.js'

export interface Registration {
  register(input: RegisterInput, client: ClientInfo): Promise<TokenPair>
}

export interface RegistrationDependencies {
  config: Pick<Config, 'throttle' | 'email'>
  identities: IdentityRepository
  throttle: ThrottleRepository
  throttleKeys: ThrottleKeys
  commonPasswords: CommonPasswordRepository
  tokens: TokenService
  logger: Logger
  pseudonymize: Pseudonymize
  /** Starts the mailer when the registration queued a verification mail. */
  mailKick: MailKick
}

export interface RegistrationTools {
  passwords: PasswordHashing
  /** The UTS #39 skeleton of a login key (lib/logins/skeleton.ts). */
  skeleton: (key: string) => string
}

export function createRegistration(
  { config, identities, throttle, throttleKeys, commonPasswords, tokens, logger, pseudonymize, mailKick }: RegistrationDependencies,
  { passwords, skeleton }: RegistrationTools,
): Registration {
  return {
    async register({ login, password, display_name, email }, client) {
      const log = { event: 'auth.register', loginHash: pseudonymize(login.key) }
      const local = localWeakness(password, { login: login.display, displayName: display_name })
      if (local) {
        logger.info('registration refused', { ...log, outcome: 'failure', reason: local })
        throw weakPassword(local)
      }
      const [counted, common] = await Promise.all([
        throttle.count(throttleKeys.registration(client.sourceIp), config.throttle.registration),
        commonPasswords.isCommon(commonPasswordDigest(password)),
      ])
      if (!counted.allowed) {
        logger.info('registration throttled', { ...log, outcome: 'failure', reason: 'throttled', retryAfter: counted.retryAfter })
        throw tooManyAttempts(counted.retryAfter)
      }
      if (common) {
        logger.info('registration refused', { ...log, outcome: 'failure', reason: 'common_password' })
        throw weakPassword('common_password')
      }
      const passwordHash = await passwords.hashPassword(password)
      const { session, refresh } = newSession(tokens, client)
      const token = email === undefined ? undefined : newEmailToken()
      const pendingEmail =
        email === undefined || token === undefined
          ? undefined
          : { email, token, link: emailLink(config.email.verifyUrl, token.token), ttlSeconds: config.email.verifyTtl }
      try {
        const identity = await identities.create(
          {
            login: login.display,
            loginKey: login.key,
            loginSkeleton: skeleton(login.key),
            displayName: display_name || null,
            passwordHash,
          },
          session,
          pendingEmail,
        )
        if (pendingEmail) await mailKick()
        logger.info('identity registered', { ...log, outcome: 'success', identityId: identity.id, sessionId: session.id })
        // A new identity holds no role yet.
        return tokens.issuePair({ identityId: identity.id, sessionId: session.id }, refresh, newIdentityClaims(refresh.issuedAt))
      } catch (error) {
        if (!(error instanceof LoginTakenError)) throw error
        logger.info('registration refused', { ...log, outcome: 'failure', reason: 'login_taken' })
        throw new ApiError('login_taken')
      }
    },
  }
}
