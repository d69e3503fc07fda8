/**
 * Pseudonyms: a keyed hash (HMAC-SHA-256 with PSEUDONYM_KEY, first 128 bits) of a value that must be
 * recognisable across log lines and counters but never readable there: the login someone typed (sometimes
 * a password typed into the wrong field), a source address. Without the key, a pseudonym cannot be reversed
 * by hashing candidate values. As text (base64url) in logs; as bytes in the throttle table.
 */
import { createHmac } from 'node:crypto'

export type KeyedHash = (value: string) => Buffer
export type Pseudonymize = (value: string) => string

export function createKeyedHash(key: Uint8Array): KeyedHash {
  return (value) => createHmac('sha256', key).update(value, 'utf8').digest().subarray(0, 16)
}

export function createPseudonymizer(key: Uint8Array): Pseudonymize {
  const hash = createKeyedHash(key)
  return (value) => hash(value).toString('base64url')
}
