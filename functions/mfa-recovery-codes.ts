/** POST /auth/mfa/recovery-codes — ten new recovery codes, shown once, with a fresh code; the old ones stop working. Behind the authorizer. */
import { perContainer } from '../lib/app.js'
import { jsonRoute } from '../lib/http/route.js'
import { createMfaAccount } from '../lib/mfa/account.js'
import { mfaParts } from '../lib/mfa/parts.js'
import { SecondFactorBody } from '../lib/mfa/requests.js'
import { passwordHashing } from '../lib/passwords/hashing.js'

const account = perContainer((app) => createMfaAccount(mfaParts(app, passwordHashing)))

export const handler = jsonRoute({ authenticated: true, body: SecondFactorBody }, ({ user, body, client }) =>
  account().regenerateRecoveryCodes(user, body, client),
)
