/** POST /auth/mfa/totp/{id}/activate — turn the enrolment on with its first code: recovery codes once, and this session at aal2. Behind the authorizer. */
import { perContainer } from '../lib/app.js'
import { jsonRoute } from '../lib/http/route.js'
import { createMfaAccount } from '../lib/mfa/account.js'
import { mfaParts } from '../lib/mfa/parts.js'
import { ActivateBody, factorIdParameter } from '../lib/mfa/requests.js'
import { passwordHashing } from '../lib/passwords/hashing.js'

const account = perContainer((app) => createMfaAccount(mfaParts(app, passwordHashing)))

export const handler = jsonRoute({ authenticated: true, body: ActivateBody }, ({ user, body, event, client }) =>
  account().activate(user, factorIdParameter(event.pathParameters), body, client),
)
