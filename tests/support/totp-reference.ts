/**
 * An independent TOTP (RFC 6238) over HOTP (RFC 4226), from node:crypto's HMAC alone, so tests can compute
 * a second factor's codes without the library under test (otpauth, in lib/mfa/totp.ts).
 */
import { createHmac } from 'node:crypto'

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'

/** RFC 4648 §6 base32, case-insensitive, padding optional; throws on any other character. */
export function decodeBase32(text: string): Buffer {
  const symbols = text.toUpperCase().replace(/=+$/, '')
  const bytes: number[] = []
  let buffer = 0
  let bits = 0
  for (const symbol of symbols) {
    const value = BASE32.indexOf(symbol)
    if (value < 0) throw new Error(`not base32: ${JSON.stringify(symbol)}`)
    buffer = ((buffer << 5) | value) & 0xfff
    bits += 5
    if (bits >= 8) {
      bits -= 8
      bytes.push((buffer >> bits) & 0xff)
    }
  }
  return Buffer.from(bytes)
}

/** RFC 4648 §6 base32 without padding (for building test secrets such as RFC 6238's ASCII one). */
export function encodeBase32(bytes: Uint8Array): string {
  let text = ''
  let buffer = 0
  let bits = 0
  for (const byte of bytes) {
    buffer = ((buffer << 8) | byte) & 0xfff
    bits += 8
    while (bits >= 5) {
      bits -= 5
      text += BASE32[(buffer >> bits) & 31]
    }
  }
  if (bits > 0) text += BASE32[(buffer << (5 - bits)) & 31]
  return text
}

/** RFC 4226 §5.3: HMAC-SHA-1 of the 8-byte big-endian counter, dynamically truncated, modulo 10^digits. */
export function referenceHotp(key: Uint8Array, counter: number, digits = 6): string {
  const message = Buffer.alloc(8)
  message.writeBigUInt64BE(BigInt(counter))
  const hmac = createHmac('sha1', key).update(message).digest()
  const offset = (hmac[hmac.length - 1] as number) & 0x0f
  const binary = hmac.readUInt32BE(offset) & 0x7fffffff
  return String(binary % 10 ** digits).padStart(digits, '0')
}

/** RFC 6238 with SHA-1: the code of `base32Secret` at time step `step` (floor(unix seconds / 30) by default). */
export function referenceTotp(base32Secret: string, step: number, digits = 6): string {
  return referenceHotp(decodeBase32(base32Secret), step, digits)
}

/** The RFC 6238 time step of a time in milliseconds, with the usual 30-second period. */
export const referenceStep = (ms: number, periodSeconds = 30): number => Math.floor(ms / 1000 / periodSeconds)
