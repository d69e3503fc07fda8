/** POST /auth/register — create an identity, open a session, answer a token pair (seed: "Register a New User"). */
import { getApp } from '../lib/app.js'
import { jsonRoute } from '../lib/http.js'
import { passwordHashing } from '../lib/passwords.js'
import { RegisterBody } from '../lib/schemas.js'

export const handler = jsonRoute({ body: RegisterBody }, ({ body, client }) => getApp(passwordHashing).auth.register(body, client))
