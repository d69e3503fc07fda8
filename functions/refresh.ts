/** POST /auth/refresh — exchange a refresh token for a new token pair (seed: "Refresh Access Token"). */
import { getApp } from '../lib/app.js'
import { jsonRoute } from '../lib/http.js'
import { RefreshBody } from '../lib/schemas.js'

export const handler = jsonRoute({ body: RefreshBody }, ({ body }) => getApp().auth.refresh(body))
