/**
 * The blocklist check every new password passes (register, change-password, later reset): the rules that
 * need no database first (lib/passwords/strength.ts), then the common-password table, by digest.
 */
import type { CommonPasswordRepository } from '../db/common-passwords.js'
import type { PasswordWeakness } from '../passwords/strength.js'
import { commonPasswordDigest, localWeakness } from '../passwords/strength.js'

export interface NewPasswordContext {
  login: string
  displayName?: string | null | undefined
}

/** Why `password` may not be a new password, or undefined when it may. */
export async function weaknessOf(
  commonPasswords: CommonPasswordRepository,
  password: string,
  context: NewPasswordContext,
): Promise<PasswordWeakness | undefined> {
  const local = localWeakness(password, context)
  if (local) return local
  return (await commonPasswords.isCommon(commonPasswordDigest(password))) ? 'common_password' : undefined
}
