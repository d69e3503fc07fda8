/** The bodies and parameters of the two-factor routes (docs/openapi.yaml), validated with valibot. */
import * as v from 'valibot'
import { presentedPassword } from '../auth/requests.js'
import type { PathParameters } from '../http/path-parameters.js'
import { uuidParameter } from '../http/path-parameters.js'
import type { SecondFactor } from './factors.js'

const code = (field: string) => v.pipe(v.string(`${field} must be a string`), v.regex(/^\d{6}$/, `${field} must be 6 digits`))
const recoveryCode = v.pipe(
  v.string('recovery_code must be a string'),
  v.maxLength(64, 'recovery_code must be at most 64 characters'),
  v.regex(/^[0-9A-Za-z -]+$/, 'recovery_code must be letters, digits, spaces and hyphens'),
)

/** Exactly one of `fields` present: the message names them. */
const oneOf = <T extends Record<string, unknown>>(fields: (keyof T & string)[]) =>
  v.check<T, string>((body) => fields.filter((field) => body[field] !== undefined).length === 1, `send exactly one of ${fields.join(', ')}`)

/** POST /auth/mfa/totp: the current password, unless the session signed in within STEP_UP_MAX_AGE. */
export const EnrolBody = v.object({ current_password: v.optional(presentedPassword('current_password')) })

/** Removal, new recovery codes: a fresh code of the factor, or one of the recovery codes (a lost device). */
export const SecondFactorBody = v.pipe(
  v.object({ code: v.optional(code('code')), recovery_code: v.optional(recoveryCode) }),
  oneOf(['code', 'recovery_code']),
)

/** POST /auth/mfa/totp/{id}/activate: the first code; `end_other_sessions` (default true). */
export const ActivateBody = v.object({
  code: code('code'),
  end_other_sessions: v.optional(v.boolean('end_other_sessions must be true or false'), true),
})

/** POST /auth/mfa/verify: the login's mfa_token and a code or a recovery code. */
export const VerifyBody = v.pipe(
  v.object({
    mfa_token: v.pipe(v.string('mfa_token must be a string'), v.maxLength(128, 'mfa_token must be at most 128 characters')),
    code: v.optional(code('code')),
    recovery_code: v.optional(recoveryCode),
  }),
  oneOf(['code', 'recovery_code']),
)

/** POST /auth/reauthenticate: the password, or a code (or recovery code) of the second factor. */
export const ReauthenticateBody = v.pipe(
  v.object({
    password: v.optional(presentedPassword('password')),
    code: v.optional(code('code')),
    recovery_code: v.optional(recoveryCode),
  }),
  oneOf(['password', 'code', 'recovery_code']),
)

export type SecondFactorInput = v.InferOutput<typeof SecondFactorBody>

/** The second factor a body carries (one of the two, as the schema checked). */
export const secondFactorOf = ({ code, recovery_code }: { code?: string | undefined; recovery_code?: string | undefined }): SecondFactor =>
  code !== undefined ? { code } : { recoveryCode: recovery_code ?? '' }

export type EnrolInput = v.InferOutput<typeof EnrolBody>
export type ActivateInput = v.InferOutput<typeof ActivateBody>
export type VerifyInput = v.InferOutput<typeof VerifyBody>
export type ReauthenticateInput = v.InferOutput<typeof ReauthenticateBody>

/** The `{id}` of /auth/mfa/totp/{id}: a factor id, or a 404 (an id that cannot exist is not found). */
export const factorIdParameter = (parameters: PathParameters): string => uuidParameter(parameters, 'id', 'mfa_factor_not_found')
