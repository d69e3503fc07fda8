/**
 * The live values of a fuzz case: the fuzz user's sessions, opened straight in the repository (no Argon2) and
 * ended after the case, and the tokens and refs a generated request names (tests/support/fuzz/refs.ts,
 * tests/support/fuzz/headers.ts), made on first use.
 */
import { randomUUID } from 'node:crypto'
import { getApp } from '../../../lib/app.js'
import { createSessionRules } from '../../../lib/auth/sessions.js'
import type { Assurance } from '../../../lib/tokens/claims.js'
import { PASSWORD_SIGN_IN } from '../../../lib/tokens/claims.js'
import type { TokenPair } from '../../../lib/tokens/service.js'
import { forge } from '../tokens.js'
import type { AuthChoice, TokenChoice } from './headers.js'
import type { Resolver } from './refs.js'

/** Where the fuzz cases' own sessions are opened and ended from (their audit events say so). */
const FUZZ_ORIGIN = { requestId: null, userAgent: 'fuzz', sourceIp: null }

export interface FuzzUser {
  identityId: number
  login: string
  /** Kept current when a generated change-password succeeds. */
  password: string
}

export interface OpenedSession {
  sessionId: string
  pair: TokenPair
}

/** How a case's sessions signed in: a password (the default), or a password and a second factor. */
export type CaseAssurance = Pick<Assurance, 'acr' | 'amr'>
export const WITH_SECOND_FACTOR: CaseAssurance = Object.freeze({ acr: 'aal2', amr: Object.freeze(['pwd', 'otp']) })

/** Opens a session for `user` straight in the repository (no Argon2): what login (or a second factor) would have opened. */
export async function openSession(user: FuzzUser, assurance: CaseAssurance = PASSWORD_SIGN_IN): Promise<OpenedSession> {
  const app = getApp()
  const sessionId = randomUUID()
  const refresh = app.tokens.newRefreshTokenId()
  const identity = await app.identities.findById(user.identityId)
  if (!identity) throw new Error(`fuzz user ${user.identityId} is gone`)
  const opened = await app.sessions.open({
    id: sessionId,
    identityId: user.identityId,
    credentialsVersion: identity.credentialsVersion,
    assurance,
    refreshTokenId: refresh.tokenId,
    refreshIssuedAt: refresh.issuedAt,
    requestId: null,
    userAgent: 'fuzz',
    sourceIp: null,
  })
  if (!opened) throw new Error('the session did not open')
  return { sessionId, pair: await app.tokens.issuePair({ identityId: user.identityId, sessionId }, refresh, opened) }
}

/** Ends every session the case left open, so the user's session list stays short across thousands of cases. */
export async function closeSessions(user: FuzzUser): Promise<void> {
  await getApp().sessions.revokeAll(user.identityId, 'logout_all', FUZZ_ORIGIN)
}

/** The live values a case's refs and token choices stand for, made on first use. */
export class CaseContext {
  #session: Promise<OpenedSession> | undefined
  #ended: Promise<OpenedSession> | undefined
  #rotated: Promise<string> | undefined

  /**
   * `more`: what resolves the refs beyond the base ones (the two-factor refs: tests/support/fuzz/mfa.ts);
   * `assurance`: how the case's session signed in (routes that need a second factor).
   */
  constructor(
    readonly user: FuzzUser,
    readonly more?: Resolver,
    readonly assurance: CaseAssurance = PASSWORD_SIGN_IN,
  ) {}

  session(): Promise<OpenedSession> {
    this.#session ??= openSession(this.user, this.assurance)
    return this.#session
  }

  readonly resolve: Resolver = async (name) => {
    switch (name) {
      case 'accessToken':
        return (await this.session()).pair.access_token
      case 'refreshToken':
        return (await this.session()).pair.refresh_token
      case 'rotatedRefreshToken':
        this.#rotated ??= openSession(this.user).then(async ({ pair }) => {
          await createSessionRules(getApp()).refresh({ refresh_token: pair.refresh_token }, FUZZ_ORIGIN)
          return pair.refresh_token
        })
        return this.#rotated
      case 'currentPassword':
        return this.user.password
      case 'login':
        return this.user.login
      case 'sessionId':
        return (await this.session()).sessionId
      default:
        if (!this.more) throw new Error(`nothing resolves ref(${name}) in this case`)
        return this.more(name)
    }
  }

  async token(choice: TokenChoice): Promise<string> {
    const app = getApp()
    const { pair, sessionId } = await this.session()
    const now = Math.floor(Date.now() / 1000)
    const claims = {
      sub: String(this.user.identityId),
      login: this.user.login,
      sid: sessionId,
      iss: app.config.jwt.issuer,
      aud: app.config.jwt.audience,
      jti: randomUUID(),
    }
    switch (choice.kind) {
      case 'access':
        return pair.access_token
      case 'refresh':
        return pair.refresh_token
      case 'ended-session': {
        this.#ended ??= openSession(this.user).then(async (s) => {
          await app.sessions.revoke(this.user.identityId, s.sessionId, 'logout', FUZZ_ORIGIN)
          return s
        })
        return (await this.#ended).pair.access_token
      }
      case 'expired':
        return forge({ ...claims, iat: now - 7200, exp: now - 3600 }, {}, app.config.jwt.secret)
      case 'other-secret':
        return forge({ ...claims, iat: now, exp: now + 3600 }, {}, new TextEncoder().encode('a-different-secret-of-at-least-32-bytes!!'))
      case 'alg-none': {
        const b64 = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url')
        return `${b64({ alg: 'none', typ: 'at+jwt' })}.${b64({ ...claims, iat: now, exp: now + 3600 })}.`
      }
      case 'tampered': {
        const parts = pair.access_token.split('.')
        const part = parts[choice.part] ?? ''
        const at = choice.at % Math.max(part.length, 1)
        const flipped = part.charAt(at) === 'A' ? 'B' : 'A'
        parts[choice.part] = part.slice(0, at) + flipped + part.slice(at + 1)
        return parts.join('.')
      }
      case 'truncated':
        return pair.access_token.slice(0, choice.at % pair.access_token.length)
      case 'junk':
        return choice.value
    }
  }

  /** The Authorization header(s) for a choice, as name/value pairs. */
  async authorizationHeaders(choice: AuthChoice): Promise<Array<[string, string]>> {
    switch (choice.kind) {
      case 'absent':
        return []
      case 'bearer':
        return [['Authorization', `${choice.scheme}${choice.gap}${await this.token(choice.token)}${choice.trail}`]]
      case 'literal':
        return [['Authorization', choice.value]]
      case 'two-headers':
        return [
          ['Authorization', `Bearer ${await this.token(choice.first)}`],
          ['authorization', `Bearer ${await this.token(choice.second)}`],
        ]
      case 'comma-joined':
        return [['Authorization', `Bearer ${await this.token(choice.first)}, Bearer ${await this.token(choice.second)}`]]
    }
  }
}
