/** POST /auth/login — exchange a login and password for a token pair in a new session (original specification: "Login"). */
import { perContainer } from '../lib/app.js'
import { createCredentialRules } from '../lib/auth/credentials.js'
import { LoginBody } from '../lib/auth/requests.js'
import { jsonRoute } from '../lib/http/route.js'
import { withChallenges } from '../lib/mfa/challenges.js'
import { passwordHashing } from '../lib/passwords/hashing.js'

const rules = perContainer((app) => createCredentialRules(withChallenges(app), passwordHashing))

export const handler = jsonRoute({ body: LoginBody }, ({ body, client }) => rules().login(body, client))
