/**
 * Recovery codes: single-use codes that stand in for the second factor when its device is lost. Each is ten
 * characters of lowercase Crockford base32 (digits and letters without i, l, o and u, so none looks like
 * another), 50 bits from the CSPRNG, shown as `xxxxx-xxxxx`. The caller stores them hashed (Argon2id).
 *
 * `normalizeRecoveryCode` reads what a person types back (any case, spaces, hyphens, o for 0, i or l for 1)
 * and answers the code in the form `newRecoveryCodes` issued it, so the caller hashes the issued code and
 * the normalized input alike.
 */
import { randomBytes } from 'node:crypto'

/** Crockford's base32 alphabet, lowercase: 32 symbols, 5 bits each. */
export const RECOVERY_CODE_ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz'
const GROUP = 5
const LENGTH = 2 * GROUP
/** 10 characters × 5 bits. */
export const RECOVERY_CODE_BITS = LENGTH * 5
export const RECOVERY_CODE_COUNT = 10

const COMPACT = /^[0-9a-hjkmnp-tv-z]{10}$/
/** Far longer than any code typed with spaces; anything longer is not worth looking at. */
const MAX_INPUT = 64

const grouped = (compact: string): string => `${compact.slice(0, GROUP)}-${compact.slice(GROUP)}`

function newCode(): string {
  // 256 is a multiple of 32, so a byte's low 5 bits are uniform: no modulo bias.
  const bytes = randomBytes(LENGTH)
  let code = ''
  for (const byte of bytes) code += RECOVERY_CODE_ALPHABET[byte & 31]
  return grouped(code)
}

/** `count` distinct new codes, `xxxxx-xxxxx`. */
export function newRecoveryCodes(count = RECOVERY_CODE_COUNT): string[] {
  if (!Number.isInteger(count) || count < 1 || count > 100) throw new RangeError('newRecoveryCodes: count must be 1 to 100')
  const codes = new Set<string>()
  while (codes.size < count) codes.add(newCode())
  return [...codes]
}

/**
 * The recovery code a person meant, `xxxxx-xxxxx`, or undefined when the input cannot be one: trimmed,
 * lowercased, without spaces or hyphens, o read as 0 and i or l as 1; then exactly ten alphabet characters.
 */
export function normalizeRecoveryCode(input: string): string | undefined {
  if (input.length > MAX_INPUT) return undefined
  const compact = input
    .trim()
    .toLowerCase()
    .replace(/[\s-]+/g, '')
    .replace(/o/g, '0')
    .replace(/[il]/g, '1')
  return COMPACT.test(compact) ? grouped(compact) : undefined
}
