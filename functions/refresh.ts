/** POST /auth/refresh — exchange a refresh token for a new token pair (original specification: "Refresh Access Token"). */
import { perContainer } from '../lib/app.js'
import { RefreshBody } from '../lib/auth/requests.js'
import { createSessionRules } from '../lib/auth/sessions.js'
import { jsonRoute } from '../lib/http/route.js'

const rules = perContainer(createSessionRules)

export const handler = jsonRoute({ body: RefreshBody }, ({ body, client }) => rules().refresh(body, client))
