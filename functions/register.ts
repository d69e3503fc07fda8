/** POST /auth/register — create an identity, open a session, answer a token pair (original specification: "Register a New User"). */
import { perContainer } from '../lib/app.js'
import { createRegistration } from '../lib/auth/registration.js'
import { RegisterBody } from '../lib/auth/requests.js'
import { withMailKick } from '../lib/email/parts.js'
import { jsonRoute } from '../lib/http/route.js'
import { loginSkeleton } from '../lib/logins/skeleton.js'
import { passwordHashing } from '../lib/passwords/hashing.js'

const registration = perContainer((app) => createRegistration(withMailKick(app), { passwords: passwordHashing, skeleton: loginSkeleton }))

export const handler = jsonRoute({ body: RegisterBody }, ({ body, client }) => registration().register(body, client))
