/** POST /auth/email/verify — the token from a verification mail: its address becomes the account's email. */
import { perContainer } from '../lib/app.js'
import { createEmailAddressRules } from '../lib/email/addresses.js'
import { addressParts } from '../lib/email/parts.js'
import { VerifyEmailBody } from '../lib/email/requests.js'
import { jsonRoute } from '../lib/http/route.js'

const rules = perContainer((app) => createEmailAddressRules(addressParts(app)))

export const handler = jsonRoute({ body: VerifyEmailBody }, ({ body, client }) => rules().verify(body, client))
