/** DELETE /auth/sessions/{id} — end one of the identity's sessions. Behind the authorizer. */
import { perContainer } from '../lib/app.js'
import { sessionIdParameter } from '../lib/auth/requests.js'
import { createSessionRules } from '../lib/auth/sessions.js'
import { jsonRoute } from '../lib/http/route.js'

const rules = perContainer(createSessionRules)

export const handler = jsonRoute({ authenticated: true }, ({ user, event, client }) =>
  rules().endSession(user, sessionIdParameter(event.pathParameters), client),
)
