/**
 * A `RequireAuth` extractor for handlers behind the authorizer: the authenticated user, read from the context the authorizer
 * attached to the request. Works for REST API events (`requestContext.authorizer`, values stringified
 * by API Gateway) and HTTP API events (`requestContext.authorizer.lambda`). Answers 401 when absent.
 */
import { ApiError, bearerRefused, stepUpRequired } from './errors.js'
import { IDENTITY_ID } from './ids.js'

/**
 * The caller, as Attune Auth's authorizer describes it in its context. `identityId` is the identity: use it
 * for every decision (ownership, lookups, audit). `login` is display text the user chose (any printable
 * characters, quotes and `<` included): never parse it or decide on it, and escape it where it goes.
 */
export interface AuthenticatedUser {
  identityId: number
  login: string
  sessionId: string
  /** The caller's roles and permissions now (the authorizer reads them live on every request). */
  roles: string[]
  permissions: string[]
  /**
   * How the session's user authenticated (RFC 9470): `aal1` a password, `aal2` with a second factor; `amr` the
   * methods (RFC 8176: `pwd`, `otp`, `rc` for a recovery code); `authTime` when, in seconds since the epoch.
   */
  acr: 'aal1' | 'aal2'
  amr: string[]
  authTime: number
  /**
   * `user` (a person's access token) or `service` (a service account's API key: then `keyId` names the key,
   * `sessionId` is the key's id too, and `permissions` are the key's scopes that the account still holds).
   */
  principalType: 'user' | 'service'
  keyId: string | null
}

interface EventWithAuthorizer {
  requestContext?: { authorizer?: unknown } | null
}

/** A space-separated context value as its words (none when absent: an older authorizer). */
const words = (value: unknown): string[] => (typeof value === 'string' ? value.split(' ').filter((word) => word.length > 0) : [])

export function requireAuth(event: EventWithAuthorizer): AuthenticatedUser {
  const user = readAuthorizerContext(event)
  if (!user) throw bearerRefused('token_missing')
  return user
}

function readAuthorizerContext(event: EventWithAuthorizer): AuthenticatedUser | undefined {
  const authorizer = event.requestContext?.authorizer
  if (typeof authorizer !== 'object' || authorizer === null) return undefined
  const lambda = (authorizer as { lambda?: unknown }).lambda
  const context = (typeof lambda === 'object' && lambda !== null ? lambda : authorizer) as Record<string, unknown>
  const id = context['identityId']
  const login = context['login']
  const sessionId = context['sessionId']
  const idText = typeof id === 'number' ? String(id) : id
  if (typeof idText !== 'string' || !IDENTITY_ID.test(idText)) return undefined
  if (typeof login !== 'string' || login.length === 0) return undefined
  if (typeof sessionId !== 'string' || sessionId.length === 0) return undefined
  // An older authorizer says nothing of assurance: the lowest, the longest ago.
  const authTime = Number(context['authTime'] ?? 0)
  return {
    identityId: Number(idText),
    login,
    sessionId,
    roles: words(context['roles']),
    permissions: words(context['permissions']),
    acr: context['acr'] === 'aal2' ? 'aal2' : 'aal1',
    amr: words(context['amr']),
    authTime: Number.isSafeInteger(authTime) && authTime > 0 ? authTime : 0,
    ...(context['principalType'] === 'service' && typeof context['keyId'] === 'string'
      ? { principalType: 'service' as const, keyId: context['keyId'] }
      : { principalType: 'user' as const, keyId: null }),
  }
}

/**
 * The caller, when it holds `permission` now (the authorizer reads permissions live on every request): a 401
 * without a caller, a `403 {"code": "FORBIDDEN", "reason": "permission_missing"}` without the permission.
 * Checks on a particular object (this order is this customer's) stay in your handler.
 */
export function requirePermission(event: EventWithAuthorizer, permission: string): AuthenticatedUser {
  const user = requireAuth(event)
  if (!user.permissions.includes(permission)) {
    throw new ApiError('permission_missing', { message: `You do not have the permission this needs (${permission})` })
  }
  return user
}

/**
 * The caller, when their sign-in is strong and recent enough for a sensitive action: `acr` `aal2` needs a
 * second factor; `maxAge` the seconds since they last authenticated (`authTime`). Otherwise a 401 with RFC 9470's
 * challenge (`WWW-Authenticate: Bearer error="insufficient_user_authentication", acr_values=..., max_age=...`):
 * the client calls `POST /auth/reauthenticate` (with a code for aal2) and retries with the new access token.
 */
export function requireAssurance(
  event: EventWithAuthorizer,
  needed: { acr?: 'aal1' | 'aal2'; maxAge?: number },
  now: () => number = Date.now,
): AuthenticatedUser {
  const user = requireAuth(event)
  const tooWeak = needed.acr === 'aal2' && user.acr !== 'aal2'
  const tooOld = needed.maxAge !== undefined && Math.floor(now() / 1000) - user.authTime > needed.maxAge
  if (tooWeak || tooOld) throw stepUpRequired(needed)
  return user
}
