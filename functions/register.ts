/** POST /auth/register — create an identity and answer a token pair (seed: "Register a New User"). */
import { getApp } from '../lib/app.js'
import { jsonRoute } from '../lib/http.js'
import { RegisterBody } from '../lib/schemas.js'

export const handler = jsonRoute({ body: RegisterBody }, ({ body }) => getApp().auth.register(body))
