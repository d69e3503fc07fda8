/**
 * What makes a new password weak, besides its length (lib/passwords/policy.ts): NIST SP 800-63B §3.1.1.2
 * asks that a new password be checked against commonly used ones, and against context-specific words.
 * - `common_password`: one of the 100,000 most common passwords of at least 8 characters (checked in
 *   PostgreSQL by its digest, `commonPasswordDigest`; the list is infra/migrations/data/).
 * - `password_contains_login` / `password_contains_display_name`: the login or display name appears in it,
 *   in any case or width (names under MIN_NAME_LENGTH characters are not looked for: they would refuse
 *   half of all passwords).
 * - `repeated_character`: one character repeated, e.g. eight spaces.
 * Comparisons are on the case-folded NFKC form, so `PASSWORD1` is `password1`.
 */
import { createHash } from 'node:crypto'
import { loginKeyOf } from '../logins/canonical.js'
import { normalizePassword } from './policy.js'

export type PasswordWeakness = 'common_password' | 'password_contains_login' | 'password_contains_display_name' | 'repeated_character'

/** Logins and display names shorter than this (in code points, folded) are not looked for inside passwords. */
export const MIN_NAME_LENGTH = 4

/** A password as the blocklist compares it: NFKC, then the login key's width mapping and case folding. */
export const foldPassword = (password: string): string => loginKeyOf(normalizePassword(password))

/** The first 16 bytes of the SHA-256 of the folded password: what the blocklist table holds, and is asked for. */
export const commonPasswordDigest = (password: string): Buffer =>
  createHash('sha256').update(foldPassword(password), 'utf8').digest().subarray(0, 16)

const contains = (folded: string, name: string | null | undefined): boolean => {
  if (!name) return false
  const key = loginKeyOf(name.normalize('NFKC'))
  return [...key].length >= MIN_NAME_LENGTH && folded.includes(key)
}

/** The rule a new password breaks that needs no database, if any. */
export function localWeakness(
  password: string,
  context: { login: string; displayName?: string | null | undefined },
): PasswordWeakness | undefined {
  const folded = foldPassword(password)
  if (/^(.)\1*$/su.test(folded)) return 'repeated_character'
  if (contains(folded, context.login)) return 'password_contains_login'
  if (contains(folded, context.displayName)) return 'password_contains_display_name'
  return undefined
}
