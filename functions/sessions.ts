/** GET /auth/sessions — the identity's active sessions, most recently used first. Behind the authorizer. */
import { getApp } from '../lib/app.js'
import { jsonRoute } from '../lib/http.js'

export const handler = jsonRoute({ authenticated: true }, ({ user }) => getApp().auth.listSessions(user))
