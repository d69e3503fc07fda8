/**
 * POST /auth/logout — end this session (`scope: "local"`, the default), every session (`"global"`) or all
 * others (`"others"`). Behind the authorizer.
 */
import { perContainer } from '../lib/app.js'
import { LogoutBody } from '../lib/auth/requests.js'
import { createSessionRules } from '../lib/auth/sessions.js'
import { jsonRoute } from '../lib/http/route.js'

const rules = perContainer(createSessionRules)

export const handler = jsonRoute({ authenticated: true, body: LogoutBody, bodyOptional: true }, ({ user, body, client }) =>
  rules().logout(user, body, client),
)
