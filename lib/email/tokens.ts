/**
 * The one-time tokens mail carries (a password reset, an email verification): 32 random bytes, base64url, so
 * 256 bits no one can guess; only their SHA-256 is stored (a fast hash is right for a random 256-bit value), and
 * the link is built from a configured template, never from a request's Host header.
 */
import { createHash, randomBytes } from 'node:crypto'

export interface EmailToken {
  /** What the mail carries, once. */
  token: string
  /** What the database keeps. */
  hash: Uint8Array
}

export const hashEmailToken = (token: string): Uint8Array => createHash('sha256').update(token, 'utf8').digest()

export function newEmailToken(): EmailToken {
  const token = randomBytes(32).toString('base64url')
  return { token, hash: hashEmailToken(token) }
}

/** The link: `template` (PASSWORD_RESET_URL, EMAIL_VERIFY_URL) with `{token}` replaced. */
export const emailLink = (template: string, token: string): string => template.replace('{token}', token)

/** A token as a client may present it: base64url of 32 bytes (43 characters). Anything else is not one of ours. */
export const EMAIL_TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/
