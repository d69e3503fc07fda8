/** POST /auth/password/forgot — mail a reset link to the account's verified address; always 202. */
import { perContainer } from '../lib/app.js'
import { recoveryParts } from '../lib/email/parts.js'
import { createPasswordRecovery } from '../lib/email/recovery.js'
import { ForgotPasswordBody } from '../lib/email/requests.js'
import { jsonRoute } from '../lib/http/route.js'

const rules = perContainer((app) => createPasswordRecovery(recoveryParts(app)))

export const handler = jsonRoute({ body: ForgotPasswordBody, status: 202 }, ({ body, client }) => rules().forgot(body, client))
