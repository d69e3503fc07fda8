/**
 * What only the functions that send mail need, built on the app (lib/app.ts) by those functions alone, so the
 * others' bundles carry none of it: the mailer's kick, and the statements of password recovery or of email
 * addresses.
 */
import type { App } from '../app.js'
import type { EmailAddressRepository } from '../db/email-addresses.js'
import { createEmailAddressRepository } from '../db/email-addresses.js'
import type { RecoveryRepository } from '../db/recovery.js'
import { createRecoveryRepository } from '../db/recovery.js'
import { mfaParts } from '../mfa/parts.js'
import type { SecondFactorCheck } from '../mfa/sign-in.js'
import { secondFactorCheck } from '../mfa/sign-in.js'
import type { PasswordHashing } from '../passwords/hashing.js'
import type { MailKick } from './kick.js'
import { createMailKick } from './kick.js'

/** The app and the mailer's kick (registration, which may queue a verification mail). */
export function withMailKick(app: App): App & { mailKick: MailKick } {
  return { ...app, mailKick: createMailKick(app.config.email, app.logger) }
}

/** For forgot and reset. */
export function recoveryParts(app: App): App & { mailKick: MailKick; recovery: RecoveryRepository } {
  return { ...withMailKick(app), recovery: createRecoveryRepository(app.sql, app.config.sessions) }
}

/** For reset: recovery's parts, and the second-factor check of an account that has one. */
export function resetParts(app: App, passwords: PasswordHashing): ReturnType<typeof recoveryParts> & { secondFactor: SecondFactorCheck } {
  return { ...recoveryParts(app), secondFactor: secondFactorCheck(mfaParts(app, passwords)) }
}

/** For verifying, resending and changing an address. */
export function addressParts(app: App): App & { mailKick: MailKick; emailAddresses: EmailAddressRepository } {
  return { ...withMailKick(app), emailAddresses: createEmailAddressRepository(app.sql) }
}
