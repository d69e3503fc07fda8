/** Calls the real handlers with real API Gateway REST events, as API Gateway would after our authorizer. */

import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda'
import { expect } from 'vitest'
import { handler as adminIdentitiesFind } from '../../functions/admin-identities-find.js'
import { handler as adminIdentityRolesGet } from '../../functions/admin-identity-roles-get.js'
import { handler as adminIdentityRolesPut } from '../../functions/admin-identity-roles-put.js'
import { handler as adminIdentitySessionsEnd } from '../../functions/admin-identity-sessions-end.js'
import { handler as adminIdentitySuspend } from '../../functions/admin-identity-suspend.js'
import { handler as adminIdentityUnsuspend } from '../../functions/admin-identity-unsuspend.js'
import { handler as adminPermissionsCreate } from '../../functions/admin-permissions-create.js'
import { handler as adminPermissionsList } from '../../functions/admin-permissions-list.js'
import { handler as adminRolePermissions } from '../../functions/admin-role-permissions.js'
import { handler as adminRolesCreate } from '../../functions/admin-roles-create.js'
import { handler as adminRolesList } from '../../functions/admin-roles-list.js'
import { handler as adminServiceAccountKeyRevoke } from '../../functions/admin-service-account-key-revoke.js'
import { handler as adminServiceAccountKeyRotate } from '../../functions/admin-service-account-key-rotate.js'
import { handler as adminServiceAccountKeysCreate } from '../../functions/admin-service-account-keys-create.js'
import { handler as adminServiceAccountKeysList } from '../../functions/admin-service-account-keys-list.js'
import { handler as adminServiceAccountsCreate } from '../../functions/admin-service-accounts-create.js'
import { handler as changePasswordHandler } from '../../functions/change-password.js'
import { handler as emailChangeHandler } from '../../functions/email-change.js'
import { handler as emailResendHandler } from '../../functions/email-resend.js'
import { handler as emailVerifyHandler } from '../../functions/email-verify.js'
import { handler as endSessionHandler } from '../../functions/end-session.js'
import { handler as identitiesLinkHandler } from '../../functions/identities-link.js'
import { handler as identitiesListHandler } from '../../functions/identities-list.js'
import { handler as identitiesUnlinkHandler } from '../../functions/identities-unlink.js'
import { handler as jwksHandler } from '../../functions/jwks.js'
import { handler as loginHandler } from '../../functions/login.js'
import { handler as logoutHandler } from '../../functions/logout.js'
import { handler as meHandler } from '../../functions/me.js'
import { handler as mfaRecoveryCodesHandler } from '../../functions/mfa-recovery-codes.js'
import { handler as mfaStatusHandler } from '../../functions/mfa-status.js'
import { handler as mfaTotpActivateHandler } from '../../functions/mfa-totp-activate.js'
import { handler as mfaTotpEnrolHandler } from '../../functions/mfa-totp-enrol.js'
import { handler as mfaTotpRemoveHandler } from '../../functions/mfa-totp-remove.js'
import { handler as mfaVerifyHandler } from '../../functions/mfa-verify.js'
import { handler as oauthAuthorizeHandler } from '../../functions/oauth-authorize.js'
import { handler as oauthCallbackHandler } from '../../functions/oauth-callback.js'
import { handler as oauthTokenHandler } from '../../functions/oauth-token.js'
import { handler as openIdHandler } from '../../functions/openid-configuration.js'
import { handler as passwordForgotHandler } from '../../functions/password-forgot.js'
import { handler as passwordResetHandler } from '../../functions/password-reset.js'
import { handler as reauthenticateHandler } from '../../functions/reauthenticate.js'
import { handler as refreshHandler } from '../../functions/refresh.js'
import { handler as registerHandler } from '../../functions/register.js'
import { handler as securityEventsHandler } from '../../functions/security-events.js'
import { handler as sessionsHandler } from '../../functions/sessions.js'
import { authorize } from '../../infra/local/offline-authorizer.js'
import { getApp } from '../../lib/app.js'
import type { TokenPair } from '../../lib/tokens/service.js'
import type { Parsed } from './events.js'
import { invoke, restEvent, uniqueLogin } from './events.js'
import { expectMatchesOpenApi } from './openapi.js'

type Handler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>

/** Invokes a public route's handler; every answer is checked against docs/openapi.yaml. */
async function call(
  handler: Handler,
  method: string,
  path: string,
  body?: unknown,
  pathParameters?: Record<string, string>,
): Promise<Parsed<any>> {
  const event = restEvent({ method, path, body })
  if (pathParameters) event.pathParameters = pathParameters
  const res = await invoke(handler, event)
  expectMatchesOpenApi(method, pathParameters ? path.replace(/[^/]+$/, '{id}') : path, res.status, res.body)
  return res
}

/** A public GET route with its `{provider}` and a query string, as API Gateway passes them; checked against docs/openapi.yaml. */
async function callWithQuery(handler: Handler, path: string, documented: string, provider: string, query: Record<string, string>) {
  const event = restEvent({ method: 'GET', path })
  event.pathParameters = { provider }
  event.queryStringParameters = Object.keys(query).length > 0 ? query : null
  event.multiValueQueryStringParameters = event.queryStringParameters && Object.fromEntries(Object.entries(query).map(([k, v]) => [k, [v]]))
  const res = await invoke(handler, event)
  expectMatchesOpenApi('GET', documented, res.status, res.body)
  return res
}

/** The context our authorizer gives API Gateway for `accessToken` on this route (it throws when the authorizer refuses). */
export async function authorizerContextFor(
  method: string,
  path: string,
  accessToken: string,
  params: Record<string, string> = {},
): Promise<Record<string, string>> {
  const outcome = await authorize({
    method,
    path,
    resource: path,
    headers: { Authorization: `Bearer ${accessToken}` },
    multiValueHeaders: {},
    query: {},
    params,
  })
  if (!outcome.allow) throw new Error(`the authorizer refused: ${outcome.body}`)
  return { principalId: outcome.principalId, ...outcome.context }
}

/**
 * A protected route as API Gateway runs it: our real authorizer decides on the Authorization header;
 * a refusal is answered as our Gateway Responses answer it, an Allow passes its context to the handler.
 */
async function callProtected(
  handler: Handler,
  method: string,
  path: string,
  accessToken: string | undefined,
  body?: unknown,
  pathParameters?: Record<string, string>,
  query?: Record<string, string>,
  documented?: string,
): Promise<Parsed<any>> {
  const documentedPath = documented ?? (pathParameters ? path.replace(/[^/]+$/, '{id}') : path)
  const headers: Record<string, string> = accessToken === undefined ? {} : { Authorization: `Bearer ${accessToken}` }
  const outcome = await authorize({
    method,
    path,
    resource: documentedPath,
    headers,
    multiValueHeaders: {},
    query: query ?? {},
    params: pathParameters ?? {},
  })
  let res: Parsed<any>
  if (!outcome.allow) {
    res = { status: outcome.status, headers: outcome.headers, body: JSON.parse(outcome.body) }
  } else {
    const event = restEvent({ method, path, body, authorizer: { principalId: outcome.principalId, ...outcome.context } })
    if (pathParameters) event.pathParameters = pathParameters
    if (query) event.queryStringParameters = query
    res = await invoke(handler, event)
  }
  expectMatchesOpenApi(method, documentedPath, res.status, res.body)
  return res
}

/** The token pair, as every token-issuing route answers it. */
export const TOKEN_PAIR = { access_token: expect.any(String), refresh_token: expect.any(String), token_type: 'Bearer', expires_in: 3600 }

export const api = {
  register: (body: unknown) => call(registerHandler, 'POST', '/auth/register', body),
  login: (body: unknown) => call(loginHandler, 'POST', '/auth/login', body),
  refresh: (body: unknown) => call(refreshHandler, 'POST', '/auth/refresh', body),
  forgotPassword: (body: unknown) => call(passwordForgotHandler, 'POST', '/auth/password/forgot', body),
  resetPassword: (body: unknown) => call(passwordResetHandler, 'POST', '/auth/password/reset', body),
  verifyEmail: (body: unknown) => call(emailVerifyHandler, 'POST', '/auth/email/verify', body),
  changeEmail: (accessToken: string | undefined, body: unknown) =>
    callProtected(emailChangeHandler, 'POST', '/auth/email', accessToken, body),
  resendVerification: (accessToken: string | undefined) => callProtected(emailResendHandler, 'POST', '/auth/email/resend', accessToken),
  jwks: () => call(jwksHandler, 'GET', '/.well-known/jwks.json'),
  openIdConfiguration: () => call(openIdHandler, 'GET', '/.well-known/openid-configuration'),
  me: (accessToken?: string) => callProtected(meHandler, 'GET', '/auth/me', accessToken),
  changePassword: (accessToken: string | undefined, body: unknown) =>
    callProtected(changePasswordHandler, 'POST', '/auth/change-password', accessToken, body),
  logout: (accessToken: string | undefined, body?: unknown) => callProtected(logoutHandler, 'POST', '/auth/logout', accessToken, body),
  sessions: (accessToken: string | undefined) => callProtected(sessionsHandler, 'GET', '/auth/sessions', accessToken),
  endSession: (accessToken: string | undefined, id: string) =>
    callProtected(endSessionHandler, 'DELETE', `/auth/sessions/${id}`, accessToken, undefined, { id }),
  admin: {
    listPermissions: (token: string | undefined) => callProtected(adminPermissionsList, 'GET', '/admin/permissions', token),
    createPermission: (token: string | undefined, body: unknown) =>
      callProtected(adminPermissionsCreate, 'POST', '/admin/permissions', token, body),
    listRoles: (token: string | undefined) => callProtected(adminRolesList, 'GET', '/admin/roles', token),
    createRole: (token: string | undefined, body: unknown) => callProtected(adminRolesCreate, 'POST', '/admin/roles', token, body),
    setRolePermissions: (token: string | undefined, name: string, body: unknown) =>
      callProtected(
        adminRolePermissions,
        'PUT',
        `/admin/roles/${name}/permissions`,
        token,
        body,
        { name },
        undefined,
        '/admin/roles/{name}/permissions',
      ),
    identityRoles: (token: string | undefined, id: number | string) =>
      callProtected(
        adminIdentityRolesGet,
        'GET',
        `/admin/identities/${id}/roles`,
        token,
        undefined,
        { id: String(id) },
        undefined,
        '/admin/identities/{id}/roles',
      ),
    setIdentityRoles: (token: string | undefined, id: number | string, body: unknown) =>
      callProtected(
        adminIdentityRolesPut,
        'PUT',
        `/admin/identities/${id}/roles`,
        token,
        body,
        { id: String(id) },
        undefined,
        '/admin/identities/{id}/roles',
      ),
    findIdentities: (token: string | undefined, login: string) =>
      callProtected(adminIdentitiesFind, 'GET', '/admin/identities', token, undefined, undefined, { login }),
    endSessions: (token: string | undefined, id: number | string) =>
      callProtected(
        adminIdentitySessionsEnd,
        'DELETE',
        `/admin/identities/${id}/sessions`,
        token,
        undefined,
        { id: String(id) },
        undefined,
        '/admin/identities/{id}/sessions',
      ),
    suspend: (token: string | undefined, id: number | string, body?: unknown) =>
      callProtected(
        adminIdentitySuspend,
        'PUT',
        `/admin/identities/${id}/suspension`,
        token,
        body,
        { id: String(id) },
        undefined,
        '/admin/identities/{id}/suspension',
      ),
    unsuspend: (token: string | undefined, id: number | string) =>
      callProtected(
        adminIdentityUnsuspend,
        'DELETE',
        `/admin/identities/${id}/suspension`,
        token,
        undefined,
        { id: String(id) },
        undefined,
        '/admin/identities/{id}/suspension',
      ),
  },
  mfa: {
    enrol: (token: string | undefined, body?: unknown) => callProtected(mfaTotpEnrolHandler, 'POST', '/auth/mfa/totp', token, body),
    activate: (token: string | undefined, id: string, body: unknown) =>
      callProtected(
        mfaTotpActivateHandler,
        'POST',
        `/auth/mfa/totp/${id}/activate`,
        token,
        body,
        { id },
        undefined,
        '/auth/mfa/totp/{id}/activate',
      ),
    status: (token: string | undefined) => callProtected(mfaStatusHandler, 'GET', '/auth/mfa', token),
    remove: (token: string | undefined, id: string, body: unknown) =>
      callProtected(mfaTotpRemoveHandler, 'DELETE', `/auth/mfa/totp/${id}`, token, body, { id }),
    recoveryCodes: (token: string | undefined, body: unknown) =>
      callProtected(mfaRecoveryCodesHandler, 'POST', '/auth/mfa/recovery-codes', token, body),
    verify: (body: unknown) => call(mfaVerifyHandler, 'POST', '/auth/mfa/verify', body),
  },
  oauth: {
    authorize: (provider: string, query: Record<string, string>) =>
      callWithQuery(oauthAuthorizeHandler, `/auth/oauth/${provider}/authorize`, '/auth/oauth/{provider}/authorize', provider, query),
    callback: (provider: string, query: Record<string, string>) =>
      callWithQuery(oauthCallbackHandler, `/auth/oauth/${provider}/callback`, '/auth/oauth/{provider}/callback', provider, query),
    token: (body: unknown) => call(oauthTokenHandler, 'POST', '/auth/oauth/token', body),
  },
  identities: {
    link: (token: string | undefined, provider: string, body: unknown) =>
      callProtected(
        identitiesLinkHandler,
        'POST',
        `/auth/identities/${provider}/link`,
        token,
        body,
        { provider },
        undefined,
        '/auth/identities/{provider}/link',
      ),
    list: (token: string | undefined) => callProtected(identitiesListHandler, 'GET', '/auth/identities', token),
    unlink: (token: string | undefined, id: string) =>
      callProtected(identitiesUnlinkHandler, 'DELETE', `/auth/identities/${id}`, token, undefined, { id }),
  },
  serviceAccounts: {
    create: (token: string | undefined, body: unknown) =>
      callProtected(adminServiceAccountsCreate, 'POST', '/admin/service-accounts', token, body),
    createKey: (token: string | undefined, id: number | string, body: unknown) =>
      callProtected(
        adminServiceAccountKeysCreate,
        'POST',
        `/admin/service-accounts/${id}/keys`,
        token,
        body,
        { id: String(id) },
        undefined,
        '/admin/service-accounts/{id}/keys',
      ),
    listKeys: (token: string | undefined, id: number | string) =>
      callProtected(
        adminServiceAccountKeysList,
        'GET',
        `/admin/service-accounts/${id}/keys`,
        token,
        undefined,
        { id: String(id) },
        undefined,
        '/admin/service-accounts/{id}/keys',
      ),
    revokeKey: (token: string | undefined, id: number | string, keyId: string) =>
      callProtected(
        adminServiceAccountKeyRevoke,
        'DELETE',
        `/admin/service-accounts/${id}/keys/${keyId}`,
        token,
        undefined,
        { id: String(id), keyId },
        undefined,
        '/admin/service-accounts/{id}/keys/{keyId}',
      ),
    rotateKey: (token: string | undefined, id: number | string, keyId: string) =>
      callProtected(
        adminServiceAccountKeyRotate,
        'POST',
        `/admin/service-accounts/${id}/keys/${keyId}/rotate`,
        token,
        undefined,
        { id: String(id), keyId },
        undefined,
        '/admin/service-accounts/{id}/keys/{keyId}/rotate',
      ),
  },
  reauthenticate: (accessToken: string | undefined, body: unknown) =>
    callProtected(reauthenticateHandler, 'POST', '/auth/reauthenticate', accessToken, body),
  securityEvents: (accessToken: string | undefined, query?: Record<string, string>) =>
    callProtected(securityEventsHandler, 'GET', '/auth/security-events', accessToken, undefined, undefined, query),
}

export interface RegisteredUser {
  login: string
  password: string
  tokens: TokenPair
  identityId: number
}

export async function registerUser(
  overrides: { login?: string; password?: string; display_name?: string | null; email?: string } = {},
): Promise<RegisteredUser> {
  const login = overrides.login ?? uniqueLogin()
  const password = overrides.password ?? 'securepassword123'
  const res: Parsed<{ data: TokenPair }> = await api.register({
    login,
    password,
    display_name: 'display_name' in overrides ? overrides.display_name : 'Test User',
    ...(overrides.email === undefined ? {} : { email: overrides.email }),
  })
  if (res.status !== 200) throw new Error(`registration failed: ${res.status} ${JSON.stringify(res.body)}`)
  const { identityId } = await getApp().tokens.verifyAccessToken(res.body.data.access_token)
  return { login, password, tokens: res.body.data, identityId }
}

/** The mails queued for `recipient`, oldest first, as the outbox holds them. */
export async function queuedMails(
  recipient: string,
): Promise<Array<{ id: string; template: string; data: Record<string, unknown>; sent: Date | null }>> {
  return getApp().sql`select id, template, data, sent from attune.outbox where recipient = ${recipient} order by id`
}

/** The token of the newest queued mail of `template` to `recipient` (read from the outbox before the mailer erases it). */
export async function queuedToken(recipient: string, template: string): Promise<string> {
  const mail = (await queuedMails(recipient)).filter((m) => m.template === template).at(-1)
  const token = String(mail?.data['link'] ?? '').match(/token=([A-Za-z0-9_-]{43})$/)?.[1]
  if (!token) throw new Error(`no ${template} mail with a link queued for ${recipient}`)
  return token
}

/** A unique address on the test domain. */
export const uniqueEmail = (prefix = 'user'): string => `${uniqueLogin(prefix)}@mail.attune.test`

/** A registered user whose address went through the whole verification: registration with it, then its link. */
export async function verifiedUser(prefix = 'verified'): Promise<RegisteredUser & { email: string }> {
  const email = uniqueEmail(prefix)
  const user = await registerUser({ email })
  const verified = await api.verifyEmail({ token: await queuedToken(email, 'verify_email') })
  if (verified.status !== 200) throw new Error(`verification failed: ${verified.status} ${JSON.stringify(verified.body)}`)
  return { ...user, email }
}
