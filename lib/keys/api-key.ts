/**
 * API keys' text (README "Service accounts"): `atk_live_` (or `atk_test_` outside production) + 32 random bytes
 * in base62 (43 characters) + a 6-character base62 CRC32 of everything before it. The prefix lets secret
 * scanners recognise ours; the checksum lets the authorizer refuse a mistyped or made-up key without a query.
 * A checksum is no secret and proves nothing: the key's SHA-256 must also be in the database.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto'
import { crc32 } from 'node:zlib'

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'
const BODY_LENGTH = 43
const CHECKSUM_LENGTH = 6
export const API_KEY_PREFIXES = { live: 'atk_live_', test: 'atk_test_' } as const
export type ApiKeyEnvironment = keyof typeof API_KEY_PREFIXES

/** Any of our keys' shape: a prefix, 43 + 6 base62 characters. */
const KEY = /^atk_(live|test)_([0-9A-Za-z]{43})([0-9A-Za-z]{6})$/

/** `value` in base62, left-padded with zeros to `length` characters. */
function base62(value: bigint, length: number): string {
  let text = ''
  for (let rest = value; rest > 0n; rest /= 62n) text = ALPHABET[Number(rest % 62n)] + text
  return text.padStart(length, '0')
}

const checksumOf = (text: string): string => base62(BigInt(crc32(text)), CHECKSUM_LENGTH)

/** A new key for `environment`: shown once, stored as its hash. */
export function newApiKey(environment: ApiKeyEnvironment): string {
  const head = `${API_KEY_PREFIXES[environment]}${base62(BigInt(`0x${randomBytes(32).toString('hex')}`), BODY_LENGTH)}`
  return `${head}${checksumOf(head)}`
}

/** Whether `text` looks like one of our keys (a bearer token to dispatch to the key lookup). */
export const looksLikeApiKey = (text: string): boolean => text.startsWith('atk_')

/**
 * The key's environment when `text` is a well-formed key whose checksum matches; undefined otherwise (no query
 * needed to refuse it).
 */
export function checkApiKey(text: string): ApiKeyEnvironment | undefined {
  const match = KEY.exec(text)
  if (!match) return undefined
  const [, environment, body, checksum] = match
  return checksumOf(`atk_${environment}_${body}`) === checksum ? (environment as ApiKeyEnvironment) : undefined
}

/** What the database keeps of a key: its SHA-256. */
export const apiKeyHash = (key: string): Buffer => createHash('sha256').update(key).digest()

/** The form listings show: the prefix, four characters, an ellipsis and the last four (`atk_live_AbC1…9xYz`). */
export const apiKeyDisplay = (key: string): string => `${key.slice(0, 13)}…${key.slice(-4)}`

/** `live` keys on production stages (`prod`, `production`), `test` keys everywhere else: neither works on the other. */
export const apiKeyEnvironmentOf = (stage: string): ApiKeyEnvironment => (['prod', 'production'].includes(stage) ? 'live' : 'test')

/** Hours a rotated key keeps working beside its successor, unless API_KEY_ROTATION_OVERLAP_HOURS says otherwise. */
export const API_KEY_ROTATION_OVERLAP_HOURS = 24

/** Days a key lives when none is asked for, and at most (README "Service accounts"). */
export const API_KEY_DEFAULT_DAYS = 90
export const API_KEY_MAX_DAYS = 365

/** A new key and what is stored of it: its id, hash and display form (a rotation's successor: its expiry is the old key's lifetime). */
export function newStoredApiKey(environment: ApiKeyEnvironment) {
  const key = newApiKey(environment)
  return { key, stored: { id: randomUUID(), hash: apiKeyHash(key), display: apiKeyDisplay(key) } }
}

/** A new key and what is stored of it, expiring `days` from `now`. */
export function mintApiKey(environment: ApiKeyEnvironment, days: number, now: number = Date.now()) {
  const { key, stored } = newStoredApiKey(environment)
  return { key, stored: { ...stored, expiresAt: new Date(now + days * 86_400_000) } }
}
