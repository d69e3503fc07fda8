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
 * - Only the canonical compact form is accepted (lib/compact-jws.ts): one spelling per token, so a
 *   token cannot be varied into look-alikes that verify (and miss the verified-token cache or a deny list).
 * - Tokens carry ids, never display data: `sub` (the identity), `sid` (the session), `jti`. The login a
 *   verifier shows comes from the database row, so a token signed with a leaked key cannot name one.
 * - Key rotation: tokens are signed with the current secret; a previous secret still verifies until
 *   its configured end, so tokens issued before a rotation keep working for the overlap.
 * - A token pair is fully determined by its session, the refresh token's id and issue time: the access
 *   token's id is derived from the refresh token's and both share `iat`. The refresh grace window can so
 *   answer the very same pair again, never mint a second access token.
 * - Asymmetric signing (ES256 or RS256) is an option: every token then names its key (`kid`, the key's
 *   RFC 7638 thumbprint), the public keys are published as a JWKS, and a token whose `kid` is not one of
 *   ours is refused — API Gateway's built-in JWT authorizers can verify our access tokens with no Lambda.
 * - Tokens longer than MAX_TOKEN_LENGTH are refused before any cryptography.
 * - An access token that verified is remembered (lib/verified-tokens.ts) until it expires or its key stops
 *   verifying, whichever is first: a warm authorizer answers it again without the signature check.
 */

import type { KeyObject } from 'node:crypto'
import { createHash, createPublicKey, randomUUID, webcrypto } from 'node:crypto'
import type { JWK, JWTPayload } from 'jose'
import { calculateJwkThumbprint, decodeProtectedHeader, errors, exportJWK, jwtVerify, SignJWT } from 'jose'
import { isCanonicalCompactJws, toLowS } from './compact-jws.js'
import type { AsymmetricKeys } from './config.js'
import { IDENTITY_ID, UUID } from './ids.js'
import type { VerifiedTokenCache } from './verified-tokens.js'
import { createVerifiedTokenCache, VERIFIED_TOKEN_CACHE_SIZE } from './verified-tokens.js'

export const ACCESS_TOKEN_TYPE = 'at+jwt'
export const REFRESH_TOKEN_TYPE = 'refresh+jwt'
/** The default (the seed's) algorithm. */
export const ALGORITHM = 'HS256'
export const MAX_TOKEN_LENGTH = 4096

export interface TokenSubject {
  identityId: number
  sessionId: string
}

export interface VerifiedToken extends TokenSubject {
  tokenId: string
  issuedAt: number
  expiresAt: number
}

/** What makes a refresh token: the session stores both, so the token can be signed again identically. */
export interface RefreshTokenId {
  tokenId: string
  issuedAt: number
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
  /** A secret being rotated out: it still verifies (never signs) until `previousSecretUntil`. */
  previousSecret?: Uint8Array | undefined
  /** Milliseconds since the epoch. */
  previousSecretUntil?: number | undefined
  /** ES256/RS256 keys; when absent, tokens are HS256 with `secret`. */
  asymmetric?: AsymmetricKeys | undefined
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
  /** An access token issued now, and the refresh token `refresh` of the same session. */
  issuePair(subject: TokenSubject, refresh: RefreshTokenId): Promise<TokenPair>
  verifyAccessToken(token: string): Promise<VerifiedToken>
  verifyRefreshToken(token: string): Promise<VerifiedToken>
  /** The public keys that verify our tokens (RFC 7517 JWK Set); empty with HS256, whose key is secret. */
  jwks(): Promise<{ keys: JWK[] }>
}

interface Signer {
  alg: string
  kid: string | undefined
  key: webcrypto.CryptoKey | KeyObject
}

interface PublicKeyEntry {
  kid: string
  key: KeyObject
  jwk: JWK
  /** Milliseconds since the epoch after which this key no longer verifies. */
  until: number
}

const REQUIRED_CLAIMS = ['exp', 'iat', 'iss', 'aud', 'sub', 'sid', 'jti']

type Key = webcrypto.CryptoKey
const importKey = (secret: Uint8Array): Promise<Key> =>
  webcrypto.subtle.importKey('raw', secret, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify'])

export function createTokenService(options: TokenOptions): TokenService {
  const now = options.now ?? Date.now
  const seconds = (): number => Math.floor(now() / 1000)
  const asymmetric = options.asymmetric
  const algorithm = asymmetric?.algorithm ?? ALGORITHM

  let hmacCurrent: Promise<Key> | undefined
  let hmacPrevious: Promise<Key> | undefined
  const currentHmacKey = (): Promise<Key> => (hmacCurrent ??= importKey(options.secret))
  const previousHmacKey = (): Promise<Key> | undefined => {
    if (!options.previousSecret || now() >= (options.previousSecretUntil ?? 0)) return undefined
    hmacPrevious ??= importKey(options.previousSecret)
    return hmacPrevious
  }

  /** Current and previous public keys with their kids, computed once. */
  let publicKeys: Promise<PublicKeyEntry[]> | undefined
  const asymmetricKeys = (): Promise<PublicKeyEntry[]> => {
    publicKeys ??= (async () => {
      if (!asymmetric) return []
      const entry = async (key: KeyObject, until: number): Promise<PublicKeyEntry> => {
        const jwk = await exportJWK(key)
        const kid = await calculateJwkThumbprint(jwk)
        return { kid, key, until, jwk: { ...jwk, kid, alg: asymmetric.algorithm, use: 'sig' } }
      }
      const entries = [await entry(createPublicKey(asymmetric.privateKey), Number.POSITIVE_INFINITY)]
      if (asymmetric.previousPublicKey) entries.push(await entry(asymmetric.previousPublicKey, options.previousSecretUntil ?? 0))
      return entries
    })()
    return publicKeys
  }

  const signer = async (): Promise<Signer> => {
    if (!asymmetric) return { alg: ALGORITHM, kid: undefined, key: await currentHmacKey() }
    const [current] = await asymmetricKeys()
    return { alg: asymmetric.algorithm, kid: current?.kid, key: asymmetric.privateKey }
  }

  async function sign(subject: TokenSubject, typ: string, tokenId: string, iat: number, lifetime: number): Promise<string> {
    const { alg, kid, key } = await signer()
    const token = await new SignJWT({ sid: subject.sessionId })
      .setProtectedHeader(kid === undefined ? { alg, typ } : { alg, typ, kid })
      .setSubject(String(subject.identityId))
      .setIssuer(options.issuer)
      .setAudience(options.audience)
      .setIssuedAt(iat)
      .setExpirationTime(iat + lifetime)
      .setJti(tokenId)
      .sign(key)
    // ECDSA signatures come out with either S; only the low one is accepted, so ours are made low too.
    return alg === 'ES256' ? toLowS(token) : token
  }

  const lifetimeOf = (typ: string): number => (typ === ACCESS_TOKEN_TYPE ? options.accessExpiration : options.refreshExpiration)

  async function verifyWith(key: Key | KeyObject, token: string, typ: string): Promise<JWTPayload> {
    const lifetime = lifetimeOf(typ)
    const { payload } = await jwtVerify(token, key, {
      algorithms: [algorithm],
      typ,
      issuer: options.issuer,
      audience: options.audience,
      requiredClaims: REQUIRED_CLAIMS,
      // Refuses an `iat` in the future or older than the lifetime; `exp` beyond iat + lifetime is checked below.
      maxTokenAge: lifetime,
      currentDate: new Date(now()),
    })
    if (typeof payload.exp === 'number' && typeof payload.iat === 'number' && payload.exp - payload.iat > lifetime) {
      throw new TokenError('invalid')
    }
    return payload
  }

  /** The token's claims, and until when (milliseconds since the epoch) the key that verified it still verifies. */
  async function verify(token: string, typ: string): Promise<{ claims: VerifiedToken; keyUntil: number }> {
    let payload: JWTPayload
    let keyUntil = Number.POSITIVE_INFINITY
    try {
      if (asymmetric) {
        // The kid selects one of our own keys; anything else (another kid, jku, x5u, jwk) is never followed.
        const { kid } = decodeProtectedHeader(token)
        const entry = (await asymmetricKeys()).find((k) => k.kid === kid && now() < k.until)
        if (!entry) throw new TokenError('invalid')
        payload = await verifyWith(entry.key, token, typ)
        keyUntil = entry.until
      } else {
        try {
          payload = await verifyWith(await currentHmacKey(), token, typ)
        } catch (error) {
          const fallback = error instanceof errors.JWSSignatureVerificationFailed ? previousHmacKey() : undefined
          if (!fallback) throw error
          payload = await verifyWith(await fallback, token, typ)
          keyUntil = options.previousSecretUntil ?? 0
        }
      }
    } catch (error) {
      if (error instanceof TokenError) throw error
      throw new TokenError(error instanceof errors.JWTExpired ? 'expired' : 'invalid', { cause: error })
    }
    return { claims: readClaims(payload), keyUntil }
  }

  /** Cheap refusals before any cryptography: the length, and anything but the canonical compact form. */
  const checkForm = (token: string): void => {
    if (typeof token !== 'string' || token.length === 0 || token.length > MAX_TOKEN_LENGTH) throw new TokenError('invalid')
    if (!isCanonicalCompactJws(token, algorithm)) throw new TokenError('invalid')
  }

  const accessTokens = options.accessTokenCache ?? createVerifiedTokenCache<VerifiedToken>({ maxEntries: VERIFIED_TOKEN_CACHE_SIZE, now })

  async function verifyAccessToken(token: string): Promise<VerifiedToken> {
    checkForm(token)
    const cached = accessTokens.get(token)
    if (cached) return cached
    const { claims, keyUntil } = await verify(token, ACCESS_TOKEN_TYPE)
    // jose accepts a token while now < exp (seconds): the entry ends at the same instant, or when its key does.
    accessTokens.set(token, Object.freeze(claims), Math.min(claims.expiresAt * 1000, keyUntil))
    return claims
  }

  return {
    newRefreshTokenId: () => ({ tokenId: randomUUID(), issuedAt: seconds() }),
    async issuePair(subject, refresh) {
      const [access_token, refresh_token] = await Promise.all([
        sign(subject, ACCESS_TOKEN_TYPE, accessTokenId(refresh.tokenId), refresh.issuedAt, options.accessExpiration),
        sign(subject, REFRESH_TOKEN_TYPE, refresh.tokenId, refresh.issuedAt, options.refreshExpiration),
      ])
      return { access_token, refresh_token, token_type: 'Bearer', expires_in: options.accessExpiration }
    },
    verifyAccessToken,
    async verifyRefreshToken(token) {
      checkForm(token)
      return (await verify(token, REFRESH_TOKEN_TYPE)).claims
    },
    async jwks() {
      return { keys: (await asymmetricKeys()).filter((k) => now() < k.until).map((k) => k.jwk) }
    },
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

/** Claim types are checked after the signature: a validly signed token with odd claims is still refused. */
function readClaims(payload: JWTPayload): VerifiedToken {
  const { sub, jti, iat, exp } = payload
  const sid: unknown = payload['sid']
  if (typeof sub !== 'string' || !IDENTITY_ID.test(sub)) throw new TokenError('invalid')
  if (typeof sid !== 'string' || !UUID.test(sid)) throw new TokenError('invalid')
  if (typeof jti !== 'string' || !UUID.test(jti)) throw new TokenError('invalid')
  if (typeof iat !== 'number' || typeof exp !== 'number') throw new TokenError('invalid')
  const identityId = Number(sub)
  if (!Number.isSafeInteger(identityId)) throw new TokenError('invalid')
  return { identityId, sessionId: sid, tokenId: jti, issuedAt: iat, expiresAt: exp }
}
