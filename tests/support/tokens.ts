/** Token helpers for tests: a service with a frozen clock, and hand-made JWTs for attack cases. */
import { randomUUID } from 'node:crypto'
import type { JWTHeaderParameters, JWTPayload } from 'jose'
import { SignJWT } from 'jose'
import type { TokenService, VerifiedToken } from '../../lib/tokens/service.js'
import { createTokenService, newIdentityClaims } from '../../lib/tokens/service.js'
import type { VerifiedTokenCache } from '../../lib/tokens/verified-tokens.js'

export const TEST_SECRET = new TextEncoder().encode('unit-test-secret-with-at-least-32-bytes!!')
export const ISSUER = 'attune-auth'
export const AUDIENCE = 'attune-api'
export const NOW = Date.UTC(2026, 10, 29, 12, 0, 0)

export function testTokens(
  options: {
    now?: () => number
    secret?: Uint8Array
    previousSecret?: Uint8Array
    previousSecretUntil?: number
    accessTokenCache?: VerifiedTokenCache<VerifiedToken>
  } = {},
): TokenService {
  return createTokenService({
    secret: options.secret ?? TEST_SECRET,
    previousSecret: options.previousSecret,
    previousSecretUntil: options.previousSecretUntil,
    accessExpiration: 3600,
    refreshExpiration: 604800,
    issuer: ISSUER,
    audience: AUDIENCE,
    now: options.now ?? (() => NOW),
    accessTokenCache: options.accessTokenCache,
  })
}

export const SESSION_ID = '0b5e6c1e-3f0a-4c47-9a53-5d1f2b7c9e10'

/** A correctly shaped access-token payload at NOW, to be altered by an attack case. */
export function accessClaims(overrides: JWTPayload = {}): JWTPayload {
  const iat = Math.floor(NOW / 1000)
  return { sub: '42', sid: SESSION_ID, iss: ISSUER, aud: AUDIENCE, iat, exp: iat + 3600, jti: randomUUID(), ...overrides }
}

/** Signs any payload and header with HS* and `secret` — including ones our service would never issue. */
export function forge(payload: JWTPayload, header: Partial<JWTHeaderParameters> = {}, secret: Uint8Array = TEST_SECRET): Promise<string> {
  return new SignJWT(payload).setProtectedHeader({ alg: 'HS256', typ: 'at+jwt', ...header } as JWTHeaderParameters).sign(secret)
}

const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url')

/** An unsigned token (`alg: none` and friends). */
export function unsigned(payload: JWTPayload, alg = 'none'): string {
  return `${b64({ alg, typ: 'at+jwt' })}.${b64(payload)}.`
}

/** A token pair for a session that exists only in this test (for token-level tests with no database). */
export function pairFor(tokens: TokenService, subject: { identityId: number; sessionId?: string }) {
  return tokens.issuePair({ sessionId: SESSION_ID, ...subject }, tokens.newRefreshTokenId(), newIdentityClaims(0))
}
