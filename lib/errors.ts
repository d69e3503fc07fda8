/**
 * Typed errors: every failure the API reports has an HTTP status and a stable `code`.
 * The body a client sees is always the seed's `{"error": message, "code": code}`.
 * An error is shown to the client only when its status is below 500 (`expose`);
 * anything else becomes a generic 500 whose cause is only logged.
 */

export const ERROR_STATUS = {
  BAD_REQUEST: 400,
  UNAUTHORIZED: 401,
  REFRESH_TOKEN_REUSED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  TOO_MANY_REQUESTS: 429,
  INTERNAL_ERROR: 500,
  SERVICE_UNAVAILABLE: 503,
} as const

export type ErrorCode = keyof typeof ERROR_STATUS

export interface ErrorBody {
  error: string
  code: ErrorCode
}

export class ApiError extends Error {
  readonly code: ErrorCode
  readonly status: number
  readonly expose: boolean
  /** Extra response headers, e.g. `WWW-Authenticate` on a refused bearer token. */
  readonly headers: Record<string, string>

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; headers?: Record<string, string> }) {
    super(message, options)
    this.name = 'ApiError'
    this.code = code
    this.status = ERROR_STATUS[code]
    this.expose = this.status < 500
    this.headers = options?.headers ?? {}
  }

  toBody(): ErrorBody {
    return { error: this.message, code: this.code }
  }
}

/** The seed's messages, kept in one place so the authorizer, handlers and Gateway Responses agree. */
export const MESSAGES = {
  missingToken: 'Missing authentication token',
  invalidToken: 'Invalid authentication token',
  expiredToken: 'Authentication token expired',
  sessionEnded: 'Session has ended',
  invalidCredentials: 'Invalid login or password',
  invalidCurrentPassword: 'Current password is incorrect',
  invalidRefreshToken: 'Invalid refresh token',
  expiredRefreshToken: 'Refresh token expired',
  refreshTokenReused: 'Refresh token already used: the session has been revoked',
  sessionNotFound: 'Session not found',
  loginTaken: 'Login already exists',
  internal: 'Internal server error',
  unavailable: 'Service temporarily unavailable',
} as const

/** RFC 6750 §3: the challenge sent with every bearer-token refusal. */
export const BEARER_CHALLENGE = 'Bearer realm="attune-auth"'

/** A 401 for a bearer token that is missing, invalid or no longer good: carries the `WWW-Authenticate` challenge. */
export const bearerRefused = (message: string): ApiError =>
  new ApiError('UNAUTHORIZED', message, { headers: { 'WWW-Authenticate': BEARER_CHALLENGE } })

export const badRequest = (message: string): ApiError => new ApiError('BAD_REQUEST', message)
export const unauthorized = (message: string): ApiError => new ApiError('UNAUTHORIZED', message)
export const conflict = (message: string): ApiError => new ApiError('CONFLICT', message)

/** Turns anything thrown into an ApiError; unknown errors become an opaque 500 (or 503 for an unreachable database). */
export function toApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error
  if (isDatabaseUnavailable(error) || isEarlyTimeout(error))
    return new ApiError('SERVICE_UNAVAILABLE', MESSAGES.unavailable, { cause: error })
  return new ApiError('INTERNAL_ERROR', MESSAGES.internal, { cause: error })
}

const UNAVAILABLE_ERRNOS = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE', 'EHOSTUNREACH'])
const UNAVAILABLE_POSTGRES = new Set(['CONNECT_TIMEOUT', 'CONNECTION_CLOSED', 'CONNECTION_ENDED', 'CONNECTION_DESTROYED'])

function isDatabaseUnavailable(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false
  const code = (error as { code?: unknown }).code
  if (typeof code !== 'string') return false
  // 57P01..57P03: admin shutdown, crash shutdown, cannot connect now; 57014: statement timeout; 08xxx: connection exceptions.
  return UNAVAILABLE_ERRNOS.has(code) || UNAVAILABLE_POSTGRES.has(code) || /^(08...|57P0[1-3]|57014)$/.test(code)
}

/**
 * middy's early timeout: the invocation was about to reach the Lambda timeout while waiting on a
 * dependency (e.g. postgres.js reconnecting without end to a server that accepts and drops connections).
 */
function isEarlyTimeout(error: unknown): boolean {
  return (
    error instanceof Error && error.name === 'TimeoutError' && (error.cause as { package?: unknown } | undefined)?.package === '@middy/core'
  )
}
