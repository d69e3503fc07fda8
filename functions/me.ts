/** GET /auth/me — the authenticated identity (original specification: "Get Current User"). Behind the authorizer. */
import { perContainer } from '../lib/app.js'
import { createSessionRules } from '../lib/auth/sessions.js'
import { jsonRoute } from '../lib/http/route.js'

const rules = perContainer(createSessionRules)

export const handler = jsonRoute({ authenticated: true }, ({ user }) => rules().profile(user))
