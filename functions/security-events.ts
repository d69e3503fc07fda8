/** GET /auth/security-events — the identity's own audit events, newest first, a page at a time. Behind the authorizer. */
import { perContainer } from '../lib/app.js'
import { createSecurityEventRules } from '../lib/audit/security-events.js'
import { SecurityEventsQuery } from '../lib/auth/requests.js'
import { jsonRoute } from '../lib/http/route.js'

const rules = perContainer(createSecurityEventRules)

export const handler = jsonRoute({ authenticated: true, query: SecurityEventsQuery }, ({ user, query }) => rules().list(user, query))
