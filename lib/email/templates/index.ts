/** Every mail this service sends, by the name an outbox row carries, with the data each needs. */
import { emailChangeNotice } from './email-change-notice.js'
import { emailInUse } from './email-in-use.js'
import { passwordChanged } from './password-changed.js'
import { passwordReset } from './password-reset.js'
import { recoveryCodeUsed } from './recovery-code-used.js'
import { verifyEmail } from './verify-email.js'

export const MAIL_TEMPLATES = {
  verify_email: verifyEmail,
  password_reset: passwordReset,
  password_changed: passwordChanged,
  email_in_use: emailInUse,
  email_change_notice: emailChangeNotice,
  recovery_code_used: recoveryCodeUsed,
} as const

export type MailTemplateName = keyof typeof MAIL_TEMPLATES

/** The data template `T` renders from (what its outbox row's `data` holds). */
export type MailData<T extends MailTemplateName> = Parameters<(typeof MAIL_TEMPLATES)[T]['render']>[0]
