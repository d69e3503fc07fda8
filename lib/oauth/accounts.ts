/**
 * What a sign-in with a provider needs beyond the provider: the logins of the accounts it creates, and the
 * one-time secrets of its flows. A generated login is `u_` and 14 characters of an alphabet whose every
 * character is its own confusable skeleton and case fold (a unit test checks it against lib/logins), so its
 * key and skeleton are the login itself and the confusables data stays out of these functions' bundles.
 */
import { createHash, randomBytes, randomInt, timingSafeEqual } from 'node:crypto'

/** No `l`, `o`, `m`, `0`, `1`: each of those is (or maps to) another character's look-alike. */
export const GENERATED_LOGIN_ALPHABET = 'abcdefghijknpqrstuvwxyz23456789'
const GENERATED_LOGIN_LENGTH = 14

export function generatedLogin(): string {
  let login = 'u_'
  for (let i = 0; i < GENERATED_LOGIN_LENGTH; i++) login += GENERATED_LOGIN_ALPHABET.charAt(randomInt(GENERATED_LOGIN_ALPHABET.length))
  return login
}

/** 256 random bits, base64url: a state, a nonce, a PKCE verifier, a one-time code. */
export const randomSecret = (): string => randomBytes(32).toString('base64url')

/** The SHA-256 a state or a one-time code is stored as. */
export const secretHash = (secret: string): Uint8Array => createHash('sha256').update(secret).digest()

/** RFC 7636's S256: does `verifier` hash to `challenge`? In constant time. */
export function pkceMatches(verifier: string, challenge: string): boolean {
  const computed = Buffer.from(createHash('sha256').update(verifier).digest('base64url'))
  const expected = Buffer.from(challenge)
  return computed.length === expected.length && timingSafeEqual(computed, expected)
}
