/** DELETE /auth/mfa/totp/{id} — remove the second factor and its recovery codes, with a fresh code of it. Behind the authorizer. */
import { perContainer } from '../lib/app.js'
import { jsonRoute } from '../lib/http/route.js'
import { createMfaAccount } from '../lib/mfa/account.js'
import { mfaParts } from '../lib/mfa/parts.js'
import { factorIdParameter, SecondFactorBody } from '../lib/mfa/requests.js'
import { passwordHashing } from '../lib/passwords/hashing.js'

const account = perContainer((app) => createMfaAccount(mfaParts(app, passwordHashing)))

export const handler = jsonRoute({ authenticated: true, body: SecondFactorBody }, ({ user, body, event, client }) =>
  account().remove(user, factorIdParameter(event.pathParameters), body, client),
)
