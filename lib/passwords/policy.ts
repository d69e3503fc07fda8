/**
 * The password policy, apart from hashing (so request validation never loads Argon2): length bounds
 * counted in Unicode code points after NFKC normalisation (NIST SP 800-63B §5.1.1.2); no composition rules.
 */
export const PASSWORD_MIN_LENGTH = 8
export const PASSWORD_MAX_LENGTH = 256

export function normalizePassword(password: string): string {
  return password.normalize('NFKC')
}

export function passwordLength(password: string): number {
  let n = 0
  for (const _ of normalizePassword(password)) n++
  return n
}
