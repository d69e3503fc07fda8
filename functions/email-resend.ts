/** POST /auth/email/resend — a new link for the pending address (the old one stops working). Behind the authorizer. */
import { perContainer } from '../lib/app.js'
import { createEmailAddressRules } from '../lib/email/addresses.js'
import { addressParts } from '../lib/email/parts.js'
import { jsonRoute } from '../lib/http/route.js'

const rules = perContainer((app) => createEmailAddressRules(addressParts(app)))

export const handler = jsonRoute({ authenticated: true, status: 202 }, ({ user, client }) => rules().resend(user, client))
