/** The bodies of the email and password-recovery routes (docs/openapi.yaml), validated with valibot. */
import * as v from 'valibot'
import { newPassword, presentedLogin, presentedPassword } from '../auth/requests.js'
import { emailAddress } from './address.js'

/** A token from a mail's link: any string up to 256 characters (one that is not ours is refused after counting). */
const emailToken = v.pipe(v.string('token must be a string'), v.maxLength(256, 'token must be at most 256 characters'))

export const ForgotPasswordBody = v.object({ login: presentedLogin })
/** With a second factor on the account, a code or a recovery code too (lib/mfa/sign-in.ts `SecondFactorCheck`). */
export const ResetPasswordBody = v.object({
  token: emailToken,
  new_password: newPassword('new_password'),
  code: v.optional(v.pipe(v.string('code must be a string'), v.regex(/^\d{6}$/, 'code must be 6 digits'))),
  recovery_code: v.optional(
    v.pipe(v.string('recovery_code must be a string'), v.maxLength(64, 'recovery_code must be at most 64 characters')),
  ),
})

export type ForgotPasswordInput = v.InferOutput<typeof ForgotPasswordBody>
export type ResetPasswordInput = v.InferOutput<typeof ResetPasswordBody>

export const VerifyEmailBody = v.object({ token: emailToken })
export const ChangeEmailBody = v.object({ email: emailAddress('email'), current_password: presentedPassword('current_password') })

export type VerifyEmailInput = v.InferOutput<typeof VerifyEmailBody>
export type ChangeEmailInput = v.InferOutput<typeof ChangeEmailBody>
