/**
 * Registration: a new identity and its first session, in one statement (a failure leaves neither). It needs
 * Argon2 and the login's confusable skeleton, both passed in, so only the register function carries the
 * skeleton's confusables data (lib/logins/skeleton.ts).
 *
 * A login is taken when its canonical key or its skeleton is an existing login's: `Alice`, `ａｌｉｃｅ` and
 * a Cyrillic `аlice` are all the account `alice`. Both are unique indexes; the answer is the same 409.
 */
import { ApiError } from '@attune-auth/client/errors'
import type { IdentityRepository } from '../db/identities.js'
import { LoginTakenError } from '../db/identities.js'
import type { ClientInfo } from '../http/client.js'
import type { Logger } from '../log.js'
import type { PasswordHashing } from '../passwords/hashing.js'
import type { Pseudonymize } from '../pseudonyms.js'
import type { TokenPair, TokenService } from '../tokens/service.js'
import type { RegisterInput } from './requests.js'
import { newSession } from './sessions.js'

export interface Registration {
  register(input: RegisterInput, client: ClientInfo): Promise<TokenPair>
}

export interface RegistrationDependencies {
  identities: IdentityRepository
  tokens: TokenService
  logger: Logger
  pseudonymize: Pseudonymize
}

export interface RegistrationTools {
  passwords: PasswordHashing
  /** The UTS #39 skeleton of a login key (lib/logins/skeleton.ts). */
  skeleton: (key: string) => string
}

export function createRegistration(
  { identities, tokens, logger, pseudonymize }: RegistrationDependencies,
  { passwords, skeleton }: RegistrationTools,
): Registration {
  return {
    async register({ login, password, display_name }, client) {
      const passwordHash = await passwords.hashPassword(password)
      const { session, refresh } = newSession(tokens, client)
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
        )
        logger.info('identity registered', { event: 'auth.register', outcome: 'success', identityId: identity.id, sessionId: session.id })
        return tokens.issuePair({ identityId: identity.id, sessionId: session.id }, refresh)
      } catch (error) {
        if (!(error instanceof LoginTakenError)) throw error
        logger.info('registration refused', {
          event: 'auth.register',
          outcome: 'failure',
          reason: 'login_taken',
          loginHash: pseudonymize(login.key),
        })
        throw new ApiError('login_taken')
      }
    },
  }
}
