/** POST /auth/email — start a change of address (current password required): a link to the new one, a notice to the old. Behind the authorizer. */
import { perContainer } from '../lib/app.js'
import { createEmailChange } from '../lib/email/addresses.js'
import { addressParts } from '../lib/email/parts.js'
import { ChangeEmailBody } from '../lib/email/requests.js'
import { jsonRoute } from '../lib/http/route.js'
import { passwordHashing } from '../lib/passwords/hashing.js'

const rules = perContainer((app) => createEmailChange(addressParts(app), passwordHashing))

export const handler = jsonRoute({ authenticated: true, body: ChangeEmailBody, status: 202 }, ({ user, body, client }) =>
  rules().change(user, body, client),
)
