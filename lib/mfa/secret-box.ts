/**
 * Second-factor secrets at rest: AES-256-GCM (node:crypto) under a keyring whose current key seals and whose
 * every key opens, so keys can rotate (add a new current key, re-seal at leisure, then drop the old one).
 *
 * Sealed form: `v1.<keyId>.<iv>.<ciphertext>.<tag>`, the last three unpadded base64url; a 12-byte random IV,
 * a 16-byte tag. The associated data the caller passes (e.g. the factor's owner) is authenticated, not
 * stored: a sealed value copied to another row does not open there. The `v1.<keyId>` header is
 * authenticated with it, so no part of the string can change without opening failing.
 *
 * Opening fails with SecretBoxError, never returning anything, whatever was wrong: the form, the key id,
 * the associated data, the ciphertext or the tag.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto'

const VERSION = 'v1'
const ALGORITHM = 'aes-256-gcm'
export const SECRET_BOX_KEY_BYTES = 32
const IV_BYTES = 12
const TAG_BYTES = 16
const KEY_ID = /^[A-Za-z0-9_-]{1,32}$/
const BASE64URL = /^[A-Za-z0-9_-]*$/

export interface SecretBoxKeyring {
  /** The key that seals. */
  current: { id: string; key: Buffer }
  /** Every key that may open, by id (the current one included; it is also found when absent here). */
  keys: ReadonlyMap<string, Buffer>
}

export type SecretBoxFailure = 'malformed' | 'unknown-key' | 'unauthentic'

export class SecretBoxError extends Error {
  readonly reason: SecretBoxFailure
  constructor(reason: SecretBoxFailure, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'SecretBoxError'
    this.reason = reason
  }
}

const header = (keyId: string): string => `${VERSION}.${keyId}`

/** What GCM authenticates besides the ciphertext: the header, then the caller's associated data. */
const aad = (keyId: string, associatedData: string): Buffer => Buffer.from(`${header(keyId)}.${associatedData}`, 'utf8')

function checkKey(id: string, key: Buffer): void {
  if (!KEY_ID.test(id)) throw new Error('secret box: a key id must be 1 to 32 of A-Z, a-z, 0-9, _ and -')
  if (key.length !== SECRET_BOX_KEY_BYTES) throw new Error(`secret box: key ${id} must be ${SECRET_BOX_KEY_BYTES} bytes`)
}

/** Encrypts `plaintext` under the keyring's current key, binding `associatedData`. */
export function sealSecret(keyring: SecretBoxKeyring, plaintext: string, associatedData: string): string {
  const { id, key } = keyring.current
  checkKey(id, key)
  const iv = randomBytes(IV_BYTES)
  const cipher = createCipheriv(ALGORITHM, key, iv, { authTagLength: TAG_BYTES })
  cipher.setAAD(aad(id, associatedData))
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()])
  const tag = cipher.getAuthTag()
  return [header(id), iv.toString('base64url'), ciphertext.toString('base64url'), tag.toString('base64url')].join('.')
}

/** Strict unpadded base64url: only its alphabet, and the canonical encoding of what it decodes to. */
function decodeBase64url(text: string): Buffer | undefined {
  if (!BASE64URL.test(text)) return undefined
  const bytes = Buffer.from(text, 'base64url')
  return bytes.toString('base64url') === text ? bytes : undefined
}

/** Decrypts what `sealSecret` sealed with the same associated data, or throws SecretBoxError. */
export function openSecret(keyring: SecretBoxKeyring, sealed: string, associatedData: string): string {
  const parts = sealed.split('.')
  if (parts.length !== 5) throw new SecretBoxError('malformed', 'sealed secret: not v1.<keyId>.<iv>.<ciphertext>.<tag>')
  const [version, keyId, ivText, ciphertextText, tagText] = parts as [string, string, string, string, string]
  if (version !== VERSION) throw new SecretBoxError('malformed', 'sealed secret: unknown version')
  if (!KEY_ID.test(keyId)) throw new SecretBoxError('malformed', 'sealed secret: invalid key id')
  const iv = decodeBase64url(ivText)
  const ciphertext = decodeBase64url(ciphertextText)
  const tag = decodeBase64url(tagText)
  if (iv?.length !== IV_BYTES || ciphertext === undefined || tag?.length !== TAG_BYTES) {
    throw new SecretBoxError('malformed', 'sealed secret: invalid IV, ciphertext or tag encoding')
  }
  const key = keyId === keyring.current.id ? keyring.current.key : keyring.keys.get(keyId)
  if (key === undefined) throw new SecretBoxError('unknown-key', `sealed secret: no key ${keyId} in the keyring`)
  try {
    const decipher = createDecipheriv(ALGORITHM, key, iv, { authTagLength: TAG_BYTES })
    decipher.setAAD(aad(keyId, associatedData))
    decipher.setAuthTag(tag)
    return Buffer.concat([decipher.update(ciphertext), decipher.final()]).toString('utf8')
  } catch (cause) {
    throw new SecretBoxError('unauthentic', 'sealed secret: does not open (wrong key or associated data, or altered)', { cause })
  }
}

/**
 * The keyring in a configuration value: `id:base64,id:base64,…`, each key 32 bytes in standard base64
 * (padding optional), the first one current. Spaces around entries are ignored. Errors name entries by
 * position and id, never by their key.
 */
export function parseMfaKeys(text: string): SecretBoxKeyring {
  const entries = text.split(',').map((entry) => entry.trim())
  if (entries.length === 1 && entries[0] === '') throw new Error('MFA keys: none given (expected id:base64key[,id:base64key…])')
  const keys = new Map<string, Buffer>()
  let current: { id: string; key: Buffer } | undefined
  entries.forEach((entry, index) => {
    const position = `MFA keys: entry ${index + 1}`
    if (entry === '') throw new Error(`${position} is empty`)
    const colon = entry.indexOf(':')
    if (colon < 0) throw new Error(`${position} has no id (expected id:base64key)`)
    const id = entry.slice(0, colon)
    const encoded = entry.slice(colon + 1)
    // The id is not echoed when invalid: a malformed entry's "id" could be (part of) a key.
    if (!KEY_ID.test(id)) throw new Error(`${position}: the id must be 1 to 32 of A-Z, a-z, 0-9, _ and -`)
    if (keys.has(id)) throw new Error(`${position}: the id ${id} appears more than once`)
    const key = decodeBase64(encoded)
    if (key === undefined) throw new Error(`${position} (${id}): the key is not base64`)
    if (key.length !== SECRET_BOX_KEY_BYTES) {
      throw new Error(
        `${position} (${id}): the key is ${key.length} bytes, not ${SECRET_BOX_KEY_BYTES}; generate one with \`openssl rand -base64 32\``,
      )
    }
    keys.set(id, key)
    current ??= { id, key }
  })
  if (current === undefined) throw new Error('MFA keys: none given')
  return { current, keys }
}

/** Strict standard base64, padding optional: only its alphabet, and the canonical encoding of what it decodes to. */
function decodeBase64(text: string): Buffer | undefined {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(text)) return undefined
  const bytes = Buffer.from(text, 'base64')
  const canonical = bytes.toString('base64')
  return canonical === text || canonical.replace(/=+$/, '') === text ? bytes : undefined
}
