/** POST /auth/logout — end this session (`scope: "local"`, the default), every session (`"global"`) or all others (`"others"`). Behind the authorizer. */
import { getApp } from '../lib/app.js'
import { jsonRoute } from '../lib/http.js'
import { LogoutBody } from '../lib/schemas.js'

export const handler = jsonRoute({ authenticated: true, body: LogoutBody, bodyOptional: true }, ({ user, body }) =>
  getApp().auth.logout(user, body),
)
