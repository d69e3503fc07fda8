/** DELETE /auth/sessions/{id} — end one of the identity's sessions. Behind the authorizer. */
import { getApp } from '../lib/app.js'
import { jsonRoute } from '../lib/http.js'
import { sessionIdParameter } from '../lib/schemas.js'

export const handler = jsonRoute({ authenticated: true }, ({ user, event }) =>
  getApp().auth.endSession(user, sessionIdParameter(event.pathParameters)),
)
