/**
 * Email addresses as this service accepts them: the common, conservative form (valibot's `email()`: dot-atoms of
 * letters, digits, `_`, `+`, `-` before the `@`, a dotted domain with a top-level label), at most 254 characters
 * (RFC 5321's path limit) with at most 64 before the `@`. No quoted local parts, comments, spaces, non-ASCII or
 * control characters, so nothing a client sends can add a header to a mail (`\r\n` is refused with a 400 that
 * says so). The domain is lowercased; the local part is kept as typed, and addresses are compared ignoring case
 * (the unique index on `lower(email)`).
 */
import * as v from 'valibot'

export const EMAIL_MAX_LENGTH = 254
export const EMAIL_LOCAL_PART_MAX_LENGTH = 64

/** An address with its domain lowercased (what is stored and mailed). */
export const normalizeEmail = (address: string): string => {
  const at = address.lastIndexOf('@')
  return `${address.slice(0, at)}${address.slice(at).toLowerCase()}`
}

/** The `email` field of a request: validated and normalised, or a 400 naming `field`. */
export const emailAddress = (field: string) =>
  v.pipe(
    v.string(`${field} must be a string`),
    v.trim(),
    v.check((s) => s.length > 0, `${field} is required`),
    v.check((s) => !/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u.test(s), `${field} must not contain control characters or line breaks`),
    v.check((s) => s.length <= EMAIL_MAX_LENGTH, `${field} must be at most ${EMAIL_MAX_LENGTH} characters`),
    v.check(
      (s) => s.indexOf('@') <= EMAIL_LOCAL_PART_MAX_LENGTH,
      `${field} must have at most ${EMAIL_LOCAL_PART_MAX_LENGTH} characters before the @`,
    ),
    v.email(`${field} must be an email address`),
    v.transform(normalizeEmail),
  )

/** True when `text` is an address `emailAddress` accepts (a login field holding an email). */
export function isEmailAddress(text: string): boolean {
  return v.is(emailAddress('email'), text)
}
