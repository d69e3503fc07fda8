/**
 * The one accepted spelling of a compact JWS (RFC 7515 §7.1): three base64url segments without padding,
 * whitespace or other characters, each exactly as re-encoding its bytes would write it (base64url
 * decoders ignore the unused low bits of the last character, so `...Q` and `...R` can decode alike), and for
 * ES256 a signature whose S is in the lower half of the curve order (an ECDSA signature (r, s) is just as
 * valid as (r, n - s): without this rule every ES256 token has a second spelling that verifies).
 */

const SEGMENT = /^[A-Za-z0-9_-]+$/

/** The order n of the P-256 group (FIPS 186-4 D.1.2.3). */
const P256_ORDER = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n
const P256_HALF_ORDER = P256_ORDER >> 1n

const isCanonicalSegment = (segment: string): boolean =>
  SEGMENT.test(segment) && Buffer.from(segment, 'base64url').toString('base64url') === segment

const bigintOf = (bytes: Uint8Array): bigint => BigInt(`0x${Buffer.from(bytes).toString('hex') || '0'}`)

/** True when `token` is header.payload.signature in canonical base64url, with a low-S signature for ES256. */
export function isCanonicalCompactJws(token: string, algorithm: string): boolean {
  const segments = token.split('.')
  if (segments.length !== 3 || !segments.every(isCanonicalSegment)) return false
  if (algorithm !== 'ES256') return true
  const signature = Buffer.from(segments[2] as string, 'base64url')
  return signature.length === 64 && bigintOf(signature.subarray(32)) <= P256_HALF_ORDER
}

/** The same ES256 token with its signature's S in the lower half (n - s when it was in the upper half). */
export function toLowS(token: string): string {
  const [header, payload, signatureText] = token.split('.') as [string, string, string]
  const signature = Buffer.from(signatureText, 'base64url')
  const s = bigintOf(signature.subarray(32))
  if (signature.length !== 64 || s <= P256_HALF_ORDER) return token
  const low = Buffer.from((P256_ORDER - s).toString(16).padStart(64, '0'), 'hex')
  return `${header}.${payload}.${Buffer.concat([signature.subarray(0, 32), low]).toString('base64url')}`
}
