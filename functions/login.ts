/** POST /auth/login — exchange a login and password for a token pair (seed: "Login"). */
import { getApp } from '../lib/app.js'
import { jsonRoute } from '../lib/http.js'
import { LoginBody } from '../lib/schemas.js'

export const handler = jsonRoute({ body: LoginBody }, ({ body }) => getApp().auth.login(body))
