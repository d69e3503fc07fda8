/**
 * POST /auth/change-password — replace the password after checking the current one (original specification: "Change Password").
 * Every other session of the identity ends; this one stays, with a new token pair. Behind the authorizer.
 */
import { perContainer } from '../lib/app.js'
import { createCredentialRules } from '../lib/auth/credentials.js'
import { ChangePasswordBody } from '../lib/auth/requests.js'
import { jsonRoute } from '../lib/http/route.js'
import { withChallenges } from '../lib/mfa/challenges.js'
import { passwordHashing } from '../lib/passwords/hashing.js'

const rules = perContainer((app) => createCredentialRules(withChallenges(app), passwordHashing))

export const handler = jsonRoute({ authenticated: true, body: ChangePasswordBody }, ({ user, body, client }) =>
  rules().changePassword(user, body, client),
)
