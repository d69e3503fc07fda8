/** POST /auth/reauthenticate — prove the password or a code again: this session's auth_time (and acr, with a code) raised in place, a new pair. Behind the authorizer. */
import { perContainer } from '../lib/app.js'
import { jsonRoute } from '../lib/http/route.js'
import { createMfaAccount } from '../lib/mfa/account.js'
import { mfaParts } from '../lib/mfa/parts.js'
import { ReauthenticateBody } from '../lib/mfa/requests.js'
import { passwordHashing } from '../lib/passwords/hashing.js'

const account = perContainer((app) => createMfaAccount(mfaParts(app, passwordHashing)))

export const handler = jsonRoute({ authenticated: true, body: ReauthenticateBody }, ({ user, body, client }) =>
  account().reauthenticate(user, body, client),
)
