/** POST /auth/login — exchange a login and password for a token pair in a new session (seed: "Login"). */
import { getApp } from '../lib/app.js'
import { jsonRoute } from '../lib/http.js'
import { passwordHashing } from '../lib/passwords.js'
import { LoginBody } from '../lib/schemas.js'

export const handler = jsonRoute({ body: LoginBody }, ({ body, client }) => getApp(passwordHashing).auth.login(body, client))
