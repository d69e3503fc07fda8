/**
 * Pseudonyms: a keyed hash (HMAC-SHA-256 with PSEUDONYM_KEY, first 128 bits, base64url) of a value that
 * must be recognisable across log lines and counters but never readable there: the login someone typed
 * (sometimes a password typed into the wrong field), later a source address. Without the key, a pseudonym
 * cannot be reversed by hashing candidate logins.
 */
import { createHmac } from 'node:crypto'

export type Pseudonymize = (value: string) => string

export function createPseudonymizer(key: Uint8Array): Pseudonymize {
  return (value) => createHmac('sha256', key).update(value, 'utf8').digest().subarray(0, 16).toString('base64url')
}
