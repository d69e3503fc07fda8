/**
 * Infrastructure failures in the API's terms: anything thrown that is not an ApiError becomes an opaque 500,
 * or a 503 when the database cannot be reached or answered too late, or the secrets cannot be read from SSM
 * (clients may retry). The cause is kept
 * for the log line, never answered.
 */
import { ApiError } from '@attune-auth/client/errors'
import { SecretsUnavailableError } from '../secrets.js'

/** Turns anything thrown into an ApiError. */
export function toApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error
  if (isDatabaseUnavailable(error) || isEarlyTimeout(error) || error instanceof SecretsUnavailableError) {
    return new ApiError('service_unavailable', { cause: error })
  }
  return new ApiError('internal_error', { cause: error })
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
