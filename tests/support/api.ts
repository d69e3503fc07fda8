/** Calls the real handlers with real API Gateway REST events, as API Gateway would after our authorizer. */
import { handler as changePasswordHandler } from '../../functions/change-password.js'
import { handler as loginHandler } from '../../functions/login.js'
import { handler as meHandler } from '../../functions/me.js'
import { handler as refreshHandler } from '../../functions/refresh.js'
import { handler as registerHandler } from '../../functions/register.js'
import { getApp } from '../../lib/app.js'
import type { TokenPair } from '../../lib/tokens.js'
import type { Parsed } from './events.js'
import { invoke, restEvent, uniqueLogin } from './events.js'

export const api = {
  register: (body: unknown) => invoke(registerHandler, restEvent({ method: 'POST', path: '/auth/register', body })),
  login: (body: unknown) => invoke(loginHandler, restEvent({ method: 'POST', path: '/auth/login', body })),
  refresh: (body: unknown) => invoke(refreshHandler, restEvent({ method: 'POST', path: '/auth/refresh', body })),
  /** GET /auth/me behind the authorizer: the access token is verified the way the authorizer does, and its context attached. */
  me: async (accessToken?: string) => invoke(meHandler, restEvent({ method: 'GET', path: '/auth/me', authorizer: await authorizerContext(accessToken) })),
  changePassword: async (accessToken: string | undefined, body: unknown) =>
    invoke(changePasswordHandler, restEvent({ method: 'POST', path: '/auth/change-password', body, authorizer: await authorizerContext(accessToken) })),
}

/** The context API Gateway passes on after an Allow (values stringified, as REST APIs do). */
async function authorizerContext(accessToken: string | undefined): Promise<Record<string, string> | null> {
  if (accessToken === undefined) return null
  const { identityId, login } = await getApp().tokens.verifyAccessToken(accessToken)
  return { principalId: String(identityId), identityId: String(identityId), login }
}

export interface RegisteredUser {
  login: string
  password: string
  tokens: TokenPair
  identityId: number
}

export async function registerUser(overrides: { login?: string; password?: string; display_name?: string | null } = {}): Promise<RegisteredUser> {
  const login = overrides.login ?? uniqueLogin()
  const password = overrides.password ?? 'securepassword123'
  const res: Parsed<{ data: TokenPair }> = await api.register({ login, password, display_name: 'display_name' in overrides ? overrides.display_name : 'Test User' })
  if (res.status !== 200) throw new Error(`registration failed: ${res.status} ${JSON.stringify(res.body)}`)
  const { identityId } = await getApp().tokens.verifyAccessToken(res.body.data.access_token)
  return { login, password, tokens: res.body.data, identityId }
}
