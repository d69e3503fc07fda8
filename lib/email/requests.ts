/** The bodies of the email and password-recovery routes (docs/openapi.yaml), validated with valibot. */
import * as v from 'valibot'
import { newPassword, presentedPassword } from '../auth/requests.js'
import { canonicalLogin } from '../logins/canonical.js'
import { EMAIL_MAX_LENGTH, emailAddress, isEmailAddress, normalizeEmail } from './address.js'

/** What a login-or-email field names: the login's canonical key and the address, each when the text is one. */
export interface AccountName {
  loginKey: string | null
  email: string | null
}

const CONTROL_CHARACTERS = /[\p{Cc}\p{Cs}]/u

/** A field holding a login or a verified email (forgot; login): either may match, the login first. */
export const loginOrEmail = (field: string) =>
  v.pipe(
    v.string(`${field} must be a string`),
    v.trim(),
    v.transform((s) => s.normalize('NFC')),
    v.check((s) => s.length > 0, `${field} is required`),
    v.check((s) => s.length <= EMAIL_MAX_LENGTH, `${field} must be at most ${EMAIL_MAX_LENGTH} characters`),
    v.check((s) => !CONTROL_CHARACTERS.test(s), `${field} must not contain control characters`),
    v.transform((s): AccountName => {
      const canonical = [...s].length <= 64 ? canonicalLogin(s) : undefined
      return { loginKey: canonical?.ok ? canonical.key : null, email: isEmailAddress(s) ? normalizeEmail(s) : null }
    }),
  )

/** A token from a mail's link: any string up to 256 characters (one that is not ours is refused after counting). */
const emailToken = v.pipe(v.string('token must be a string'), v.maxLength(256, 'token must be at most 256 characters'))

export const ForgotPasswordBody = v.object({ login: loginOrEmail('login') })
export const ResetPasswordBody = v.object({ token: emailToken, new_password: newPassword('new_password') })

export type ForgotPasswordInput = v.InferOutput<typeof ForgotPasswordBody>
export type ResetPasswordInput = v.InferOutput<typeof ResetPasswordBody>

export const VerifyEmailBody = v.object({ token: emailToken })
export const ChangeEmailBody = v.object({ email: emailAddress('email'), current_password: presentedPassword('current_password') })

export type VerifyEmailInput = v.InferOutput<typeof VerifyEmailBody>
export type ChangeEmailInput = v.InferOutput<typeof ChangeEmailBody>
