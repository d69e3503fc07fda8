/**
 * The API's error contract: every failure a client can see has an HTTP status, a stable `code` (the original specification's
 * coarse classes) and a stable semantic `reason` (what happened, so clients never match message text),
 * with a human message. The body is always `{"error": message, "code": code}` with `reason`
 * beside them. An error is shown to the client only when its status is below 500 (`expose`); anything else
 * becomes a generic 500 (or 503) whose cause is only logged (Attune Auth's lib/http/failures.ts).
 * Attune Auth's own handlers and the services behind its authorizer share this one contract.
 */
import { BEARER_REASONS, INSUFFICIENT_USER_AUTHENTICATION, PERMISSION_MISSING } from './bearer-reasons.js'

export { BEARER_REASONS, INSUFFICIENT_USER_AUTHENTICATION, PERMISSION_MISSING }

export const ERROR_STATUS = {
  BAD_REQUEST: 400,
  WEAK_PASSWORD: 400,
  UNAUTHORIZED: 401,
  REFRESH_TOKEN_REUSED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  CONFLICT: 409,
  ACCOUNT_EXISTS_LINK_REQUIRED: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  TOO_MANY_REQUESTS: 429,
  INTERNAL_ERROR: 500,
  SERVICE_UNAVAILABLE: 503,
} as const

export type ErrorCode = keyof typeof ERROR_STATUS

/**
 * Every reason, with its code and default message (the original specification's messages where it has one). Messages
 * of `invalid_field` and the body reasons name the field or limit; the rest are always the same text.
 * The Gateway Responses in Attune Auth's serverless.yml use the same reasons for what API Gateway refuses itself.
 */
export const REASONS = {
  ...BEARER_REASONS,
  // What an API that declares route requirements answers for any bad token (README "Protect your API").
  unauthenticated: { code: 'UNAUTHORIZED', message: 'Missing, invalid or expired authentication token' },
  invalid_credentials: { code: 'UNAUTHORIZED', message: 'Invalid login or password' },
  invalid_current_password: { code: 'UNAUTHORIZED', message: 'Current password is incorrect' },
  refresh_token_invalid: { code: 'UNAUTHORIZED', message: 'Invalid refresh token' },
  refresh_token_expired: { code: 'UNAUTHORIZED', message: 'Refresh token expired' },
  refresh_token_reused: { code: 'REFRESH_TOKEN_REUSED', message: 'Refresh token already used: the session has been revoked' },
  invalid_field: { code: 'BAD_REQUEST', message: 'Invalid request body' },
  body_missing: { code: 'BAD_REQUEST', message: 'Request body is required' },
  malformed_body: { code: 'BAD_REQUEST', message: 'Request body is not valid JSON' },
  body_too_large: { code: 'PAYLOAD_TOO_LARGE', message: 'Request body is too large' },
  unsupported_media_type: { code: 'UNSUPPORTED_MEDIA_TYPE', message: 'Content-Type must be application/json' },
  permission_missing: PERMISSION_MISSING,
  insufficient_user_authentication: INSUFFICIENT_USER_AUTHENTICATION,
  session_not_found: { code: 'NOT_FOUND', message: 'Session not found' },
  role_not_found: { code: 'NOT_FOUND', message: 'Role not found' },
  identity_not_found: { code: 'NOT_FOUND', message: 'Identity not found' },
  service_account_not_found: { code: 'NOT_FOUND', message: 'Service account not found' },
  api_key_not_found: { code: 'NOT_FOUND', message: 'No such live API key of this service account' },
  route_not_found: { code: 'NOT_FOUND', message: 'Not found' },
  oauth_provider_unknown: { code: 'NOT_FOUND', message: 'No such sign-in provider' },
  linked_identity_not_found: { code: 'NOT_FOUND', message: 'No such linked account' },
  discovery_not_configured: {
    code: 'NOT_FOUND',
    message: 'OpenID configuration is not published: JWT_ISSUER is not this API’s https URL',
  },
  login_taken: { code: 'CONFLICT', message: 'Login already exists' },
  email_taken: { code: 'CONFLICT', message: 'This email address now belongs to another account' },
  permission_exists: { code: 'CONFLICT', message: 'A permission with this name exists already' },
  role_exists: { code: 'CONFLICT', message: 'A role with this name exists already' },
  service_account_exists: { code: 'CONFLICT', message: 'A service account (or login) with this name exists already' },
  cannot_suspend_self: { code: 'CONFLICT', message: 'You cannot suspend your own account' },
  account_exists_link_required: {
    code: 'ACCOUNT_EXISTS_LINK_REQUIRED',
    message: 'An account with this email address exists: sign in to it, then link this provider from there',
  },
  identity_already_linked: { code: 'CONFLICT', message: 'This provider account is linked already (to this account or another)' },
  last_way_in: {
    code: 'CONFLICT',
    message: 'This is the last way to sign in to the account: set a password or link another provider first',
  },
  redirect_uri_not_allowed: { code: 'BAD_REQUEST', message: 'redirect_uri is not one of the allowed redirect URIs' },
  oauth_state_invalid: { code: 'BAD_REQUEST', message: 'This sign-in expired or was used already: start again' },
  oauth_code_invalid: { code: 'UNAUTHORIZED', message: 'This sign-in code is invalid, used or expired: sign in again' },
  email_token_invalid: { code: 'BAD_REQUEST', message: 'This link is invalid, used or expired: ask for a new one' },
  gateway_refused: { code: 'BAD_REQUEST', message: 'Bad request' },
  throttled: { code: 'TOO_MANY_REQUESTS', message: 'Too many requests' },
  too_many_attempts: { code: 'TOO_MANY_REQUESTS', message: 'Too many attempts: try again later' },
  mfa_code_invalid: { code: 'UNAUTHORIZED', message: 'Invalid two-factor code' },
  mfa_token_invalid: { code: 'UNAUTHORIZED', message: 'This two-factor sign-in expired or was used: sign in again' },
  mfa_factor_not_found: { code: 'NOT_FOUND', message: 'No such second factor (or its enrolment expired)' },
  mfa_already_enabled: { code: 'CONFLICT', message: 'Two-factor authentication is already on for this account' },
  step_up_required: {
    code: 'UNAUTHORIZED',
    message: 'This needs a stronger or more recent sign-in: reauthenticate, with a second factor if asked',
  },
  common_password: { code: 'WEAK_PASSWORD', message: 'This password is too common: choose another one' },
  password_contains_login: { code: 'WEAK_PASSWORD', message: 'The password must not contain the login' },
  password_contains_display_name: { code: 'WEAK_PASSWORD', message: 'The password must not contain the display name' },
  repeated_character: { code: 'WEAK_PASSWORD', message: 'The password must not be one character repeated' },
  internal_error: { code: 'INTERNAL_ERROR', message: 'Internal server error' },
  service_unavailable: { code: 'SERVICE_UNAVAILABLE', message: 'Service temporarily unavailable' },
} as const satisfies Record<string, { code: ErrorCode; message: string }>

export type Reason = keyof typeof REASONS

export interface ErrorBody {
  error: string
  code: ErrorCode
  reason: Reason
}

export interface ApiErrorOptions {
  /** Replaces the reason's default message (e.g. naming the field that failed). */
  message?: string
  cause?: unknown
  /** Extra response headers, e.g. `WWW-Authenticate` on a refused bearer token. */
  headers?: Record<string, string>
}

export class ApiError extends Error {
  readonly reason: Reason
  readonly code: ErrorCode
  readonly status: number
  readonly expose: boolean
  readonly headers: Record<string, string>

  constructor(reason: Reason, options: ApiErrorOptions = {}) {
    super(options.message ?? REASONS[reason].message, { cause: options.cause })
    this.name = 'ApiError'
    this.reason = reason
    this.code = REASONS[reason].code
    this.status = ERROR_STATUS[this.code]
    this.expose = this.status < 500
    this.headers = options.headers ?? {}
  }

  toBody(): ErrorBody {
    return { error: this.message, code: this.code, reason: this.reason }
  }
}

/** RFC 6750 §3: the challenge sent with every bearer-token refusal. */
export const BEARER_CHALLENGE = 'Bearer realm="attune-auth"'

/**
 * RFC 9470's challenge for a token whose sign-in is not strong or recent enough: `acr_values` the level needed,
 * `max_age` the seconds since the sign-in allowed.
 */
export const stepUpChallenge = ({ acr, maxAge }: { acr?: 'aal1' | 'aal2'; maxAge?: number }): string =>
  `${BEARER_CHALLENGE}, error="insufficient_user_authentication"${acr ? `, acr_values="${acr}"` : ''}${maxAge === undefined ? '' : `, max_age=${maxAge}`}`

/** A 401 asking for a stronger or more recent sign-in (RFC 9470), with its challenge. */
export const stepUpRequired = (needed: { acr?: 'aal1' | 'aal2'; maxAge?: number }): ApiError =>
  new ApiError('step_up_required', { headers: { 'WWW-Authenticate': stepUpChallenge(needed) } })

/** The reasons a bearer token is refused for. */
export type BearerRefusal = 'token_missing' | 'token_invalid' | 'token_expired' | 'session_ended'

/** A 401 for a bearer token that is missing, invalid or no longer good: carries the `WWW-Authenticate` challenge. */
export const bearerRefused = (reason: BearerRefusal): ApiError =>
  new ApiError(reason, { headers: { 'WWW-Authenticate': BEARER_CHALLENGE } })

/** A 400 whose message names the field and the rule it broke. */
export const invalidField = (message: string): ApiError => new ApiError('invalid_field', { message })
