/**
 * What only the two-factor functions need, built on the app (lib/app.ts) by those functions alone, so the
 * others' bundles carry neither otpauth nor the secret box: the two-factor rules over the app's repository.
 */
import type { App } from '../app.js'
import { createMfaRepository } from '../db/mfa.js'
import type { SessionAssurance } from '../db/session-assurance.js'
import { createSessionAssurance } from '../db/session-assurance.js'
import type { MailKick } from '../email/kick.js'
import { createMailKick } from '../email/kick.js'
import type { PasswordHashing } from '../passwords/hashing.js'
import type { MfaRules } from './factors.js'
import { createMfaRules } from './factors.js'

/** The app and its two-factor rules (`passwords`: our Argon2id, for the recovery codes). */
export function mfaParts(
  app: App,
  passwords: PasswordHashing,
): App & { factors: MfaRules; passwords: PasswordHashing; assurance: SessionAssurance; mailKick: MailKick; now: () => number } {
  const { keyring, issuer } = app.config.mfa
  const mfa = createMfaRepository(app.sql)
  // Read the clock at each call (a reference to Date.now taken once would outlive a replaced clock).
  const now = () => Date.now()
  const factors = createMfaRules({ mfa, keyring, passwords, issuer, now })
  const mailKick = createMailKick(app.config.email, app.logger)
  return { ...app, mailKick, factors, passwords, now, assurance: createSessionAssurance(app.sql, app.config.sessions) }
}
