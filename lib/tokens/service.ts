/**
 * JWT access and refresh tokens (jose): HS256 with JWT_SECRET, or ES256/RS256 with a key pair.
 *
 * - The header `typ` separates the two kinds (RFC 8725 §3.11): an access token (`at+jwt`, RFC 9068)
 *   is never accepted as a refresh token, nor the reverse.
 * - Only the configured algorithm is accepted; `exp`, `iat`, `iss`, `aud`, `sub`, `sid` and `jti` are
 *   required and `iss`/`aud` checked; claim types are validated after the signature. A token older than
 *   its kind's lifetime, issued in the future, or whose `exp - iat` exceeds that lifetime is refused even
 *   when correctly signed. Header fields that name other keys (`kid`, `jku`, `x5u`, `jwk`) are never
 *   followed: the keys are fixed by configuration.
 * - Only the canonical compact form is accepted (lib/tokens/compact-jws.ts): one spelling per token, so a
 *   token cannot be varied into look-alikes that verify (and miss the verified-token cache or a deny list).
 * - Tokens carry ids, never display data (lib/tokens/claims.ts). The login a verifier shows comes from the
 *   database row, so a token signed with a leaked key cannot name one.
 * - Keys come from lib/tokens/keyring.ts: one verify loop tries its candidates for the token's header, in
 *   order; only a signature failure moves on to the next (a previous secret during a rotation).
 * - A token pair is fully determined by its session, the refresh token's id and issue time: the access
 *   token's id is derived from the refresh token's and both share `iat`. The refresh grace window can so
 *   answer the very same pair again, never mint a second access token.
 * - With ES256 or RS256 every token names its key (`kid`) and the public keys are published as a JWKS, so
 *   API Gateway's built-in JWT authorizers can verify our access tokens with no Lambda.
 * - Tokens longer than MAX_TOKEN_LENGTH are refused before any cryptography.
 * - An access token that verified is remembered (lib/tokens/verified-tokens.ts) until it expires or its key stops
 *   verifying, whichever is first: a warm authorizer answers it again without the signature check.
 */

import { randomUUID } from 'node:crypto'
import type { JWK, JWTPayload } from 'jose'
import { decodeProtectedHeader, errors, jwtVerify, SignJWT } from 'jose'
import type { IssuedClaims, RefreshTokenId, TokenSubject, VerifiedToken } from './claims.js'
import { ACCESS_TOKEN_TYPE, accessTokenId, REFRESH_TOKEN_TYPE, REQUIRED_CLAIMS, readClaims, TokenError } from './claims.js'
import { isCanonicalCompactJws, toLowS } from './compact-jws.js'
import type { Candidate, KeyOptions } from './keyring.js'
import { createKeyring } from './keyring.js'
import type { VerifiedTokenCache } from './verified-tokens.js'
import { createVerifiedTokenCache, VERIFIED_TOKEN_CACHE_SIZE } from './verified-tokens.js'

export type { Acr, Assurance, IssuedClaims, IssuedGrants, RefreshTokenId, TokenSubject, VerifiedToken } from './claims.js'
export { ACCESS_TOKEN_TYPE, newIdentityClaims, PASSWORD_SIGN_IN, passwordAssurance, REFRESH_TOKEN_TYPE, TokenError } from './claims.js'

export const MAX_TOKEN_LENGTH = 4096

/** The token pair, exactly as the API returns it (docs/openapi.yaml `TokenPair`). */
export interface TokenPair {
  access_token: string
  refresh_token: string
  token_type: 'Bearer'
  expires_in: number
}

export interface TokenOptions extends KeyOptions {
  accessExpiration: number
  refreshExpiration: number
  issuer: string
  audience: string
  /** The clock, in milliseconds since the epoch (tests freeze it). */
  now?: () => number
  /** Verified access tokens kept by this service (default: VERIFIED_TOKEN_CACHE_SIZE of them, on this service's clock). */
  accessTokenCache?: VerifiedTokenCache<VerifiedToken> | undefined
}

export interface TokenService {
  /** A new refresh token id, issued now. */
  newRefreshTokenId(): RefreshTokenId
  /** The pair of refresh token `refresh`: its access token shares its `iat` and derives its `jti`. */
  /**
   * The access token carries the grants as `scope` and `authz_ver`, and the session's `acr`, `amr` and
   * `auth_time`; the refresh token carries ids only.
   */
  issuePair(subject: TokenSubject, refresh: RefreshTokenId, claims: IssuedClaims): Promise<TokenPair>
  verifyAccessToken(token: string): Promise<VerifiedToken>
  verifyRefreshToken(token: string): Promise<VerifiedToken>
  /** The public keys that verify our tokens (RFC 7517 JWK Set); empty with HS256, whose key is secret. */
  jwks(): Promise<{ keys: JWK[] }>
}

export function createTokenService(options: TokenOptions): TokenService {
  const now = options.now ?? Date.now
  const seconds = (): number => Math.floor(now() / 1000)
  const keyring = createKeyring(options, now)
  const lifetimeOf = (typ: string): number => (typ === ACCESS_TOKEN_TYPE ? options.accessExpiration : options.refreshExpiration)

  async function sign(
    subject: TokenSubject,
    typ: string,
    tokenId: string,
    iat: number,
    extra: Record<string, unknown> = {},
  ): Promise<string> {
    const { alg, kid, key } = await keyring.signer()
    const token = await new SignJWT({ sid: subject.sessionId, ...extra })
      .setProtectedHeader(kid === undefined ? { alg, typ } : { alg, typ, kid })
      .setSubject(String(subject.identityId))
      .setIssuer(options.issuer)
      .setAudience(options.audience)
      .setIssuedAt(iat)
      .setExpirationTime(iat + lifetimeOf(typ))
      .setJti(tokenId)
      .sign(key)
    // ECDSA signatures come out with either S; only the low one is accepted, so ours are made low too.
    return alg === 'ES256' ? toLowS(token) : token
  }

  const verifyWith = async ({ key }: Candidate, token: string, typ: string): Promise<JWTPayload> =>
    (
      await jwtVerify(token, key, {
        algorithms: [keyring.algorithm],
        typ,
        issuer: options.issuer,
        audience: options.audience,
        requiredClaims: REQUIRED_CLAIMS,
        // Refuses an `iat` in the future or older than the lifetime; `exp` beyond iat + lifetime is refused by readClaims.
        maxTokenAge: lifetimeOf(typ),
        currentDate: new Date(now()),
      })
    ).payload

  /** The one verify loop: the keyring's candidates in order; only a signature failure moves on to the next. */
  async function verify(token: string, typ: string): Promise<{ claims: VerifiedToken; keyUntil: number }> {
    if (typeof token !== 'string' || token.length === 0 || token.length > MAX_TOKEN_LENGTH) throw new TokenError('invalid')
    if (!isCanonicalCompactJws(token, keyring.algorithm)) throw new TokenError('invalid')
    try {
      for (const candidate of await keyring.candidates(decodeProtectedHeader(token))) {
        try {
          return { claims: readClaims(await verifyWith(candidate, token, typ), lifetimeOf(typ)), keyUntil: candidate.until }
        } catch (error) {
          if (!(error instanceof errors.JWSSignatureVerificationFailed)) throw error
        }
      }
    } catch (error) {
      if (error instanceof TokenError) throw error
      throw new TokenError(error instanceof errors.JWTExpired ? 'expired' : 'invalid', { cause: error })
    }
    throw new TokenError('invalid')
  }

  const accessTokens = options.accessTokenCache ?? createVerifiedTokenCache<VerifiedToken>({ maxEntries: VERIFIED_TOKEN_CACHE_SIZE, now })

  return {
    newRefreshTokenId: () => ({ tokenId: randomUUID(), issuedAt: seconds() }),
    async issuePair(subject, refresh, claims) {
      const authorization = {
        scope: claims.permissions.join(' '),
        authz_ver: claims.authzVersion,
        acr: claims.acr,
        amr: claims.amr,
        auth_time: claims.authTime,
      }
      const [access_token, refresh_token] = await Promise.all([
        sign(subject, ACCESS_TOKEN_TYPE, accessTokenId(refresh.tokenId), refresh.issuedAt, authorization),
        sign(subject, REFRESH_TOKEN_TYPE, refresh.tokenId, refresh.issuedAt),
      ])
      return { access_token, refresh_token, token_type: 'Bearer', expires_in: options.accessExpiration }
    },
    async verifyAccessToken(token) {
      // Only verified (so canonical) tokens are remembered, keyed by their exact text: a look-alike spelling never hits.
      if (typeof token !== 'string' || token.length > MAX_TOKEN_LENGTH) throw new TokenError('invalid')
      const cached = accessTokens.get(token)
      if (cached) return cached
      const { claims, keyUntil } = await verify(token, ACCESS_TOKEN_TYPE)
      // jose accepts a token while now < exp (seconds): the entry ends at the same instant, or when its key does.
      accessTokens.set(token, Object.freeze(claims), Math.min(claims.expiresAt * 1000, keyUntil))
      return claims
    },
    async verifyRefreshToken(token) {
      return (await verify(token, REFRESH_TOKEN_TYPE)).claims
    },
    async jwks() {
      return { keys: await keyring.jwks() }
    },
  }
}
