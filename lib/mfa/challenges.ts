/**
 * The step between a password and a second factor: a login for an identity with an active factor answers an
 * `mfa_token` instead of tokens. The token is 256 random bits, stored as its SHA-256 only; it lives
 * MFA_TOKEN_TTL_SECONDS, allows MFA_TOKEN_MAX_ATTEMPTS attempts, and is spent by the attempt that succeeds.
 */
import { createHash, randomBytes } from 'node:crypto'
import type { Sql } from '../db/client.js'
import type { ChallengeRepository, ChallengeState } from '../db/mfa-challenges.js'
import { createChallengeRepository } from '../db/mfa-challenges.js'
import type { AlsoWhenOpened } from '../db/sessions.js'

export const MFA_TOKEN_TTL_SECONDS = 300
export const MFA_TOKEN_MAX_ATTEMPTS = 5
export const MFA_METHODS = ['totp', 'recovery_code'] as const

/** What `POST /auth/login` answers in place of tokens. */
export interface MfaRequired {
  mfa_required: true
  mfa_token: string
  methods: typeof MFA_METHODS
  expires_in: number
}

const TOKEN = /^[A-Za-z0-9_-]{43}$/
const hashOf = (token: string): Uint8Array => createHash('sha256').update(token).digest()

export function createChallenges(mfa: ChallengeRepository) {
  return {
    /** Opens a challenge for the identity whose password passed at `credentialsVersion`; `also` as the session's opening. */
    async open(state: ChallengeState, also: AlsoWhenOpened[] = []): Promise<MfaRequired> {
      const token = randomBytes(32).toString('base64url')
      await mfa.openChallenge(hashOf(token), state, MFA_TOKEN_TTL_SECONDS, also)
      return { mfa_required: true, mfa_token: token, methods: MFA_METHODS, expires_in: MFA_TOKEN_TTL_SECONDS }
    },

    /** Counts an attempt at the challenge: whose it is, or undefined (unknown, expired, used, out of attempts). */
    async attempt(token: string): Promise<ChallengeState | undefined> {
      if (!TOKEN.test(token)) return undefined
      return mfa.attemptChallenge(hashOf(token), MFA_TOKEN_MAX_ATTEMPTS)
    },

    /** Spends the challenge once its factor passed: false when a racing attempt spent it first. */
    close: (token: string): Promise<boolean> => mfa.closeChallenge(hashOf(token)),
  }
}

export type Challenges = ReturnType<typeof createChallenges>

/** The app and the login challenges (the login and change-password functions, whose rules are one module). */
export function withChallenges<A extends { sql: Sql }>(app: A): A & { challenges: Challenges } {
  return { ...app, challenges: createChallenges(createChallengeRepository(app.sql)) }
}
