/** POST /auth/mfa/totp — start a TOTP enrolment: a secret and its otpauth URI (current password, or a recent sign-in). Behind the authorizer. */
import { perContainer } from '../lib/app.js'
import { jsonRoute } from '../lib/http/route.js'
import { createMfaAccount } from '../lib/mfa/account.js'
import { mfaParts } from '../lib/mfa/parts.js'
import { EnrolBody } from '../lib/mfa/requests.js'
import { passwordHashing } from '../lib/passwords/hashing.js'

const account = perContainer((app) => createMfaAccount(mfaParts(app, passwordHashing)))

export const handler = jsonRoute({ authenticated: true, body: EnrolBody, bodyOptional: true, status: 201 }, ({ user, body, client }) =>
  account().enrol(user, body, client),
)
