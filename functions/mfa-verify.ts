/** POST /auth/mfa/verify — finish a login that answered mfa_required: the mfa_token and a code or a recovery code, for the token pair. */
import { perContainer } from '../lib/app.js'
import { jsonRoute } from '../lib/http/route.js'
import { withChallenges } from '../lib/mfa/challenges.js'
import { mfaParts } from '../lib/mfa/parts.js'
import { VerifyBody } from '../lib/mfa/requests.js'
import { createMfaSignIn } from '../lib/mfa/sign-in.js'
import { passwordHashing } from '../lib/passwords/hashing.js'

const signIn = perContainer((app) => createMfaSignIn(withChallenges(mfaParts(app, passwordHashing))))

export const handler = jsonRoute({ body: VerifyBody }, ({ body, client }) => signIn().verify(body, client))
