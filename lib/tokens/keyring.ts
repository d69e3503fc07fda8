/**
 * The keys that sign and verify our tokens, and the one rule that picks them: `candidates(header)` answers
 * the keys that may verify a token with that protected header, each with the time it stops verifying (as
 * jose's own key-resolver functions do), and `signer()` the key that signs new ones.
 *
 * - HS256: the current secret, then the previous one while its rotation overlap lasts. The header names no
 *   key; a token that fails the first on its signature is tried against the second.
 * - ES256/RS256: the current key pair and, during a rotation, the previous public key, each named by its
 *   RFC 7638 thumbprint (`kid`). Only a key whose `kid` the header names is a candidate: nothing a header
 *   says (`jku`, `x5u`, `jwk`, another `kid`) is ever followed.
 * Keys are imported once, on first use.
 */
import type { KeyObject, webcrypto } from 'node:crypto'
import { createPublicKey, webcrypto as crypto } from 'node:crypto'
import type { JWK, ProtectedHeaderParameters } from 'jose'
import { calculateJwkThumbprint, exportJWK } from 'jose'
import type { AsymmetricKeys } from '../config.js'

/** The default algorithm, with JWT_SECRET. */
export const HMAC_ALGORITHM = 'HS256'

export interface KeyOptions {
  secret: Uint8Array
  /** A secret being rotated out: it still verifies (never signs) until `previousSecretUntil`. */
  previousSecret?: Uint8Array | undefined
  /** Milliseconds since the epoch when the previous secret or public key stops verifying. */
  previousSecretUntil?: number | undefined
  /** ES256/RS256 keys; when absent, tokens are HS256 with `secret`. */
  asymmetric?: AsymmetricKeys | undefined
}

export type VerifyKey = webcrypto.CryptoKey | KeyObject

export interface Candidate {
  key: VerifyKey
  /** Milliseconds since the epoch after which this key no longer verifies. */
  until: number
}

export interface Signer {
  alg: string
  kid: string | undefined
  key: VerifyKey
}

export interface Keyring {
  /** The algorithm every token is signed and verified with. */
  readonly algorithm: string
  signer(): Promise<Signer>
  /** The keys that may verify a token with this header, now, in the order to try them. */
  candidates(header: ProtectedHeaderParameters): Promise<Candidate[]>
  /** The public keys to publish (RFC 7517 JWK Set); empty with HS256, whose key is secret. */
  jwks(): Promise<JWK[]>
}

interface Entry extends Candidate {
  kid: string | undefined
  jwk: JWK | undefined
}

const importHmacKey = (secret: Uint8Array): Promise<webcrypto.CryptoKey> =>
  crypto.subtle.importKey('raw', secret, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify'])

/** A public key as its JWK Set entry (`kid` its RFC 7638 thumbprint), verifying until `until`. */
export async function publicEntry(key: KeyObject, algorithm: string, until: number): Promise<Entry> {
  const jwk = await exportJWK(key)
  const kid = await calculateJwkThumbprint(jwk)
  return { key, until, kid, jwk: { ...jwk, kid, alg: algorithm, use: 'sig' } }
}

export function createKeyring(options: KeyOptions, now: () => number): Keyring {
  const { asymmetric } = options
  const algorithm = asymmetric?.algorithm ?? HMAC_ALGORITHM
  const previousUntil = options.previousSecretUntil ?? 0

  /** Current first, then the previous one (which may have ended); built once. */
  let entries: Promise<Entry[]> | undefined
  const all = (): Promise<Entry[]> => {
    entries ??= (async (): Promise<Entry[]> => {
      if (asymmetric) {
        const current = await publicEntry(createPublicKey(asymmetric.privateKey), algorithm, Number.POSITIVE_INFINITY)
        const previous = asymmetric.previousPublicKey && (await publicEntry(asymmetric.previousPublicKey, algorithm, previousUntil))
        return previous ? [current, previous] : [current]
      }
      const current: Entry = { key: await importHmacKey(options.secret), until: Number.POSITIVE_INFINITY, kid: undefined, jwk: undefined }
      if (!options.previousSecret) return [current]
      return [current, { key: await importHmacKey(options.previousSecret), until: previousUntil, kid: undefined, jwk: undefined }]
    })()
    return entries
  }
  const live = async (): Promise<Entry[]> => (await all()).filter((entry) => now() < entry.until)

  return {
    algorithm,
    async signer() {
      const [current] = await all()
      if (!current) throw new Error('no signing key')
      return { alg: algorithm, kid: current.kid, key: asymmetric ? asymmetric.privateKey : current.key }
    },
    async candidates(header) {
      const keys = await live()
      return asymmetric ? keys.filter((entry) => entry.kid === header.kid) : keys
    },
    async jwks() {
      return (await live()).flatMap((entry) => (entry.jwk ? [entry.jwk] : []))
    },
  }
}
