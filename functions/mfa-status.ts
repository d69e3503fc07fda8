/** GET /auth/mfa — the identity's second factors and how many recovery codes are left. Behind the authorizer. */
import { perContainer } from '../lib/app.js'
import { jsonRoute } from '../lib/http/route.js'
import { createMfaAccount } from '../lib/mfa/account.js'
import { mfaParts } from '../lib/mfa/parts.js'
import { passwordHashing } from '../lib/passwords/hashing.js'

const account = perContainer((app) => createMfaAccount(mfaParts(app, passwordHashing)))

export const handler = jsonRoute({ authenticated: true }, ({ user }) => account().status(user))
