/** POST /auth/password/reset — a new password with the token from the reset mail; every session ends. */
import { perContainer } from '../lib/app.js'
import { resetParts } from '../lib/email/parts.js'
import { createPasswordReset } from '../lib/email/recovery.js'
import { ResetPasswordBody } from '../lib/email/requests.js'
import { jsonRoute } from '../lib/http/route.js'
import { passwordHashing } from '../lib/passwords/hashing.js'

const rules = perContainer((app) => createPasswordReset(resetParts(app, passwordHashing), passwordHashing))

export const handler = jsonRoute({ body: ResetPasswordBody }, ({ body, client }) => rules().reset(body, client))
