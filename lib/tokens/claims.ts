/**
 * What our tokens say, and the checks of their claims after the signature: a validly signed token with
 * odd claims is still refused. Tokens carry ids (`sub`, `sid`, `jti`), never display data; access tokens also
 * carry the permissions at issue time (`scope`, `authz_ver`).
 */
import { createHash } from 'node:crypto'
import { IDENTITY_ID, UUID } from '@attune-auth/client/ids'
import type { JWTPayload } from 'jose'

export const ACCESS_TOKEN_TYPE = 'at+jwt'
export const REFRESH_TOKEN_TYPE = 'refresh+jwt'
export const REQUIRED_CLAIMS = ['exp', 'iat', 'iss', 'aud', 'sub', 'sid', 'jti']

export interface TokenSubject {
  identityId: number
  sessionId: string
}

export interface VerifiedToken extends TokenSubject {
  tokenId: string
  issuedAt: number
  expiresAt: number
}

/**
 * What an access token says the identity may do, at the moment it is issued: `scope` (its permissions,
 * space-separated, RFC 9068 §2.2.3) and `authz_ver`, for verifiers that only check signatures (API Gateway's
 * JWT authorizers). Our own authorizer never trusts them: it reads the grants live.
 */
export interface IssuedGrants {
  permissions: readonly string[]
  authzVersion: number
}

/** Authentication assurance levels (NIST SP 800-63B), as RFC 9470's `acr`: a password alone, or with a second factor. */
export const ACR_VALUES = ['aal1', 'aal2'] as const
export type Acr = (typeof ACR_VALUES)[number]

/**
 * How the session's user authenticated: `acr`, `amr` (RFC 8176 methods: `pwd`, `otp`, and `rc` for a recovery
 * code) and `auth_time` (seconds since the epoch), from the session row, copied into every access token.
 */
export interface Assurance {
  acr: Acr
  amr: readonly string[]
  authTime: number
}

/** How a password sign-in (login, registration) authenticated. */
export const PASSWORD_SIGN_IN: Pick<Assurance, 'acr' | 'amr'> = Object.freeze({ acr: 'aal1', amr: Object.freeze(['pwd']) })

/** A password sign-in's assurance, at `authTime` (registration). */
export const passwordAssurance = (authTime: number): Assurance => ({ ...PASSWORD_SIGN_IN, authTime })

/** What an access token says beyond its ids: the grants and the assurance at issue time. */
export interface IssuedClaims extends IssuedGrants, Assurance {}

/** A brand-new identity's claims (registration): no grants, at version 0, signed in with its password at `authTime`. */
export const newIdentityClaims = (authTime: number): IssuedClaims => ({ permissions: [], authzVersion: 0, ...passwordAssurance(authTime) })

/** What makes a refresh token: the session stores both, so the token can be signed again identically. */
export interface RefreshTokenId {
  tokenId: string
  issuedAt: number
}

export type TokenFailure = 'expired' | 'invalid'

export class TokenError extends Error {
  readonly reason: TokenFailure
  constructor(reason: TokenFailure, options?: { cause?: unknown }) {
    super(reason === 'expired' ? 'token expired' : 'token invalid', options)
    this.name = 'TokenError'
    this.reason = reason
  }
}

/**
 * The access token's id, derived from its refresh token's (a UUID of the version-8 "custom" kind, from
 * SHA-256): the pair is issued, and re-issued within the grace window, as the same two tokens.
 */
export function accessTokenId(refreshTokenId: string): string {
  const bytes = createHash('sha256').update(`at+jwt:${refreshTokenId}`).digest().subarray(0, 16)
  bytes[6] = ((bytes[6] as number) & 0x0f) | 0x80
  bytes[8] = ((bytes[8] as number) & 0x3f) | 0x80
  const hex = bytes.toString('hex')
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
}

/** The claims of a token whose signature verified, or TokenError('invalid'). */
export function readClaims(payload: JWTPayload, lifetime: number): VerifiedToken {
  const { sub, jti, iat, exp } = payload
  const sid: unknown = payload['sid']
  if (typeof sub !== 'string' || !IDENTITY_ID.test(sub)) throw new TokenError('invalid')
  if (typeof sid !== 'string' || !UUID.test(sid)) throw new TokenError('invalid')
  if (typeof jti !== 'string' || !UUID.test(jti)) throw new TokenError('invalid')
  if (typeof iat !== 'number' || typeof exp !== 'number') throw new TokenError('invalid')
  // jose's maxTokenAge refuses an iat in the future or older than the lifetime; a far exp is ours to refuse.
  if (exp - iat > lifetime) throw new TokenError('invalid')
  const identityId = Number(sub)
  if (!Number.isSafeInteger(identityId)) throw new TokenError('invalid')
  return { identityId, sessionId: sid, tokenId: jti, issuedAt: iat, expiresAt: exp }
}
