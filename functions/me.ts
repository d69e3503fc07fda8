/** GET /auth/me — the authenticated identity (seed: "Get Current User"). Behind the authorizer. */
import { getApp } from '../lib/app.js'
import { jsonRoute } from '../lib/http.js'

export const handler = jsonRoute({ authenticated: true }, ({ user }) => getApp().auth.profile(user))
