/**
 * Request bodies, as docs/openapi.yaml describes them, validated with valibot.
 * Logins are trimmed, NFC-normalised, 1–64 characters, without control characters, and canonicalised
 * (lib/logins/canonical.ts): the typed form is kept for display, the key decides which account it is.
 * Passwords are bounded before any hashing, so a huge password cannot burn a Lambda.
 */
import * as v from 'valibot'
import { EMAIL_MAX_LENGTH, emailAddress, isEmailAddress, normalizeEmail } from '../email/address.js'
import type { PathParameters } from '../http/path-parameters.js'
import { uuidParameter } from '../http/path-parameters.js'
import { canonicalLogin } from '../logins/canonical.js'
import { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH, passwordLength } from '../passwords/policy.js'
import { MAX_TOKEN_LENGTH } from '../tokens/service.js'

export const LOGIN_MAX_LENGTH = 64
export const DISPLAY_NAME_MAX_LENGTH = 128

export const CONTROL_CHARACTERS = /\p{Cc}/u
/** Half of a UTF-16 pair alone: not a character; PostgreSQL would store it as U+FFFD, merging distinct logins. */
const LONE_SURROGATE = /\p{Cs}/u
const codePoints = (s: string): number => [...s].length

const text = (field: string) => v.string(`${field} must be a string`)

/** A login as typed (`display`: trimmed, NFC) and its canonical key (which account it names). */
export interface LoginName {
  display: string
  key: string
}

const login = v.pipe(
  text('login'),
  v.trim(),
  v.transform((s) => s.normalize('NFC')),
  v.check((s) => s.length > 0, 'login is required'),
  v.check((s) => codePoints(s) <= LOGIN_MAX_LENGTH, `login must be at most ${LOGIN_MAX_LENGTH} characters`),
  v.check((s) => !CONTROL_CHARACTERS.test(s), 'login must not contain control characters'),
  v.rawTransform(({ dataset, addIssue, NEVER }): LoginName => {
    const canonical = canonicalLogin(dataset.value)
    if (canonical.ok) return { display: dataset.value, key: canonical.key }
    addIssue({ message: canonical.message })
    return NEVER
  }),
)

/**
 * Any password, set or presented: valid Unicode. A lone surrogate is not a character; UTF-8 encoding (and so
 * Argon2's input) would turn every one of them into U+FFFD, so `\udc00` and `\ud800` would be one password.
 */
const passwordText = (field: string) =>
  v.pipe(
    text(field),
    v.check((s) => !LONE_SURROGATE.test(s), `${field} must be valid Unicode`),
  )

/** A new password: the policy applies (length only: no composition rules, per NIST SP 800-63B and OWASP ASVS). */
export const newPassword = (field: string) =>
  v.pipe(
    passwordText(field),
    v.check(
      (s) => s.length <= PASSWORD_MAX_LENGTH * 2 && passwordLength(s) <= PASSWORD_MAX_LENGTH,
      `${field} must be at most ${PASSWORD_MAX_LENGTH} characters`,
    ),
    v.check((s) => passwordLength(s) >= PASSWORD_MIN_LENGTH, `${field} must be at least ${PASSWORD_MIN_LENGTH} characters`),
  )

/** A password being checked, not set: only bounded, so the policy does not leak and old passwords still work. */
export const presentedPassword = (field: string) =>
  v.pipe(
    passwordText(field),
    v.check((s) => s.length > 0, `${field} is required`),
    v.check(
      (s) => s.length <= PASSWORD_MAX_LENGTH * 2 && passwordLength(s) <= PASSWORD_MAX_LENGTH,
      `${field} must be at most ${PASSWORD_MAX_LENGTH} characters`,
    ),
  )

const displayName = v.optional(
  v.nullable(
    v.pipe(
      text('display_name'),
      v.trim(),
      v.transform((s) => s.normalize('NFC')),
      v.check((s) => codePoints(s) <= DISPLAY_NAME_MAX_LENGTH, `display_name must be at most ${DISPLAY_NAME_MAX_LENGTH} characters`),
      v.check((s) => !CONTROL_CHARACTERS.test(s), 'display_name must not contain control characters'),
      v.check((s) => !LONE_SURROGATE.test(s), 'display_name must be valid Unicode'),
    ),
  ),
)

export const RegisterBody = v.object({
  login,
  password: newPassword('password'),
  display_name: displayName,
  /** Optional: waits for verification (a mail with a link) before it becomes the account's email. */
  email: v.optional(emailAddress('email')),
})

/**
 * What POST /auth/login's `login` names: a login (its canonical key), or a verified email address, or either
 * when the text could be both (`bob@example.com` may be a login too: the login is tried first).
 */
export interface PresentedLogin {
  /** As typed (trimmed, NFC), for the logs' keyed hash. */
  display: string
  /** The canonical key, when the text is a valid login. */
  key: string | null
  /** The address, when the text is an email address. */
  email: string | null
}

/** A field holding a login or an email address (POST /auth/login, POST /auth/password/forgot). */
export const presentedLogin = v.pipe(
  text('login'),
  v.trim(),
  v.transform((s) => s.normalize('NFC')),
  v.check((s) => s.length > 0, 'login is required'),
  v.check((s) => s.length <= EMAIL_MAX_LENGTH, `login must be at most ${EMAIL_MAX_LENGTH} characters`),
  v.check((s) => !CONTROL_CHARACTERS.test(s), 'login must not contain control characters'),
  v.rawTransform(({ dataset, addIssue, NEVER }): PresentedLogin => {
    const email = isEmailAddress(dataset.value) ? normalizeEmail(dataset.value) : null
    const canonical = codePoints(dataset.value) <= LOGIN_MAX_LENGTH ? canonicalLogin(dataset.value) : undefined
    if (canonical?.ok || email !== null) return { display: dataset.value, key: canonical?.ok ? canonical.key : null, email }
    addIssue({ message: canonical ? canonical.message : `login must be at most ${LOGIN_MAX_LENGTH} characters` })
    return NEVER
  }),
)

export const LoginBody = v.object({
  login: presentedLogin,
  password: presentedPassword('password'),
})

export const RefreshBody = v.object({
  refresh_token: v.pipe(
    text('refresh_token'),
    v.check((s) => s.length > 0, 'refresh_token is required'),
    v.check((s) => s.length <= MAX_TOKEN_LENGTH, 'refresh_token is too long'),
  ),
})

export const ChangePasswordBody = v.object({
  current_password: presentedPassword('current_password'),
  new_password: newPassword('new_password'),
})

export type RegisterInput = v.InferOutput<typeof RegisterBody>
export type LoginInput = v.InferOutput<typeof LoginBody>
export type RefreshInput = v.InferOutput<typeof RefreshBody>
export type ChangePasswordInput = v.InferOutput<typeof ChangePasswordBody>

export const LOGOUT_SCOPES = ['local', 'global', 'others'] as const

/** `POST /auth/logout`: `local` (default) ends this session, `global` every session, `others` all but this one. */
export const LogoutBody = v.object({
  scope: v.optional(v.picklist(LOGOUT_SCOPES, `scope must be one of ${LOGOUT_SCOPES.join(', ')}`), 'local'),
})

export type LogoutInput = v.InferOutput<typeof LogoutBody>

/** GET /auth/security-events returns at most this many events per page (and 20 when `limit` is not given). */
export const SECURITY_EVENTS_MAX_LIMIT = 100

/** A page cursor: the last event's id, base64url-encoded (opaque to clients; only ids this API issued decode). */
export const encodeCursor = (id: number): string => Buffer.from(String(id)).toString('base64url')

const cursor = v.pipe(
  v.string(),
  v.regex(/^[A-Za-z0-9_-]{1,40}$/, 'cursor is not a cursor this API issued'),
  v.transform((s) => Buffer.from(s, 'base64url').toString('latin1')),
  v.regex(/^[1-9][0-9]{0,15}$/, 'cursor is not a cursor this API issued'),
  v.transform(Number),
)

export const SecurityEventsQuery = v.object({
  cursor: v.optional(cursor),
  limit: v.optional(
    v.pipe(
      v.string(),
      v.regex(/^[0-9]{1,3}$/, `limit must be a whole number from 1 to ${SECURITY_EVENTS_MAX_LIMIT}`),
      v.transform(Number),
      v.minValue(1, `limit must be a whole number from 1 to ${SECURITY_EVENTS_MAX_LIMIT}`),
      v.maxValue(SECURITY_EVENTS_MAX_LIMIT, `limit must be a whole number from 1 to ${SECURITY_EVENTS_MAX_LIMIT}`),
    ),
    '20',
  ),
})

export type SecurityEventsInput = v.InferOutput<typeof SecurityEventsQuery>

/** The `{id}` of `/auth/sessions/{id}`: a session id, or a 404 (an id that cannot exist is simply not found). */
export const sessionIdParameter = (parameters: PathParameters): string => uuidParameter(parameters, 'id', 'session_not_found')
