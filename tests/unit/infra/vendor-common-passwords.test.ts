/** The committed blocklist data is what infra/vendor-common-passwords.ts makes from the installed package. */
import { describe, expect, it } from 'vitest'
import {
  COMMON_PASSWORDS,
  committedCommonPasswords,
  installedCommonPasswords,
  VENDOR_COMMAND,
} from '../../../infra/vendor-common-passwords.js'
import { PASSWORD_MIN_LENGTH, passwordLength } from '../../../lib/passwords/policy.js'
import { foldPassword } from '../../../lib/passwords/strength.js'

describe('infra/migrations/data/common-passwords.txt.gz', () => {
  const committed = committedCommonPasswords()

  it(`is the installed list's ${COMMON_PASSWORDS.toLocaleString('en')} most common passwords of ${PASSWORD_MIN_LENGTH} characters or more`, () => {
    expect(committed, `run \`${VENDOR_COMMAND}\``).toEqual(installedCommonPasswords())
  })

  it('holds folded, distinct passwords a new password could be at all, most common first', () => {
    expect(new Set(committed).size).toBe(COMMON_PASSWORDS)
    for (const password of committed) {
      if (passwordLength(password) < PASSWORD_MIN_LENGTH || foldPassword(password) !== password) expect.fail(password)
    }
    expect(committed.slice(0, 3)).toEqual(['password', '12345678', '123456789'])
  })
})
