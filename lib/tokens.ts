/**
 * JWT access and refresh tokens (jose, HS256).
 *
 * - The header `typ` separates the two kinds (RFC 8725 §3.11): an access token (`at+jwt`, RFC 9068)
 *   is never accepted as a refresh token, nor the reverse.
 * - Only HS256 is accepted; `exp`, `iat`, `iss`, `aud`, `sub` and `jti` are required and `iss`/`aud` checked;
 *   claim types are validated after the signature.
 * - Tokens longer than MAX_TOKEN_LENGTH are refused before any cryptography.
 */
import { SignJWT, errors, jwtVerify } from 'jose'
import type { JWTPayload } from 'jose'
import { randomUUID, webcrypto } from 'node:crypto'

export const ACCESS_TOKEN_TYPE = 'at+jwt'
export const REFRESH_TOKEN_TYPE = 'refresh+jwt'
export const ALGORITHM = 'HS256'
export const MAX_TOKEN_LENGTH = 4096

export interface TokenSubject {
  identityId: number
  login: string
}

export interface VerifiedToken extends TokenSubject {
  tokenId: string
  issuedAt: number
  expiresAt: number
}

/** The seed's token pair, exactly as the API returns it. */
export interface TokenPair {
  access_token: string
  refresh_token: string
  token_type: 'Bearer'
  expires_in: number
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

export interface TokenOptions {
  secret: Uint8Array
  accessExpiration: number
  refreshExpiration: number
  issuer: string
  audience: string
  /** The clock, in milliseconds since the epoch (tests freeze it). */
  now?: () => number
}

export interface TokenService {
  issuePair(subject: TokenSubject): Promise<TokenPair>
  verifyAccessToken(token: string): Promise<VerifiedToken>
  verifyRefreshToken(token: string): Promise<VerifiedToken>
}

const REQUIRED_CLAIMS = ['exp', 'iat', 'iss', 'aud', 'sub', 'jti']
const IDENTITY_ID = /^[1-9]\d{0,15}$/

export function createTokenService(options: TokenOptions): TokenService {
  const now = options.now ?? Date.now
  let key: Promise<webcrypto.CryptoKey> | undefined
  const signingKey = (): Promise<webcrypto.CryptoKey> => {
    key ??= webcrypto.subtle.importKey('raw', options.secret, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify'])
    return key
  }

  async function sign(subject: TokenSubject, typ: string, lifetime: number): Promise<string> {
    const iat = Math.floor(now() / 1000)
    return new SignJWT({ login: subject.login })
      .setProtectedHeader({ alg: ALGORITHM, typ })
      .setSubject(String(subject.identityId))
      .setIssuer(options.issuer)
      .setAudience(options.audience)
      .setIssuedAt(iat)
      .setExpirationTime(iat + lifetime)
      .setJti(randomUUID())
      .sign(await signingKey())
  }

  async function verify(token: string, typ: string): Promise<VerifiedToken> {
    if (typeof token !== 'string' || token.length === 0 || token.length > MAX_TOKEN_LENGTH) throw new TokenError('invalid')
    let payload: JWTPayload
    try {
      ;({ payload } = await jwtVerify(token, await signingKey(), {
        algorithms: [ALGORITHM],
        typ,
        issuer: options.issuer,
        audience: options.audience,
        requiredClaims: REQUIRED_CLAIMS,
        currentDate: new Date(now()),
      }))
    } catch (error) {
      throw new TokenError(error instanceof errors.JWTExpired ? 'expired' : 'invalid', { cause: error })
    }
    return readClaims(payload)
  }

  return {
    async issuePair(subject) {
      const [access_token, refresh_token] = await Promise.all([
        sign(subject, ACCESS_TOKEN_TYPE, options.accessExpiration),
        sign(subject, REFRESH_TOKEN_TYPE, options.refreshExpiration),
      ])
      return { access_token, refresh_token, token_type: 'Bearer', expires_in: options.accessExpiration }
    },
    verifyAccessToken: (token) => verify(token, ACCESS_TOKEN_TYPE),
    verifyRefreshToken: (token) => verify(token, REFRESH_TOKEN_TYPE),
  }
}

/** Claim types are checked after the signature: a validly signed token with odd claims is still refused. */
function readClaims(payload: JWTPayload): VerifiedToken {
  const { sub, jti, iat, exp } = payload
  const login: unknown = payload['login']
  if (typeof sub !== 'string' || !IDENTITY_ID.test(sub)) throw new TokenError('invalid')
  if (typeof login !== 'string' || login.length === 0) throw new TokenError('invalid')
  if (typeof jti !== 'string' || jti.length === 0) throw new TokenError('invalid')
  if (typeof iat !== 'number' || typeof exp !== 'number') throw new TokenError('invalid')
  const identityId = Number(sub)
  if (!Number.isSafeInteger(identityId)) throw new TokenError('invalid')
  return { identityId, login, tokenId: jti, issuedAt: iat, expiresAt: exp }
}
