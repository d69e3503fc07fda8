/** POST /auth/oauth/token — redeem a provider sign-in's one-time code with the PKCE verifier: a token pair, or mfa_required. */
import { perContainer } from '../lib/app.js'
import { jsonRoute } from '../lib/http/route.js'
import { withChallenges } from '../lib/mfa/challenges.js'
import { oauthParts } from '../lib/oauth/parts.js'
import { TokenBody } from '../lib/oauth/requests.js'
import { createOAuthSignIn } from '../lib/oauth/sign-in.js'

const signIn = perContainer((app) => createOAuthSignIn(withChallenges(oauthParts(app))))

export const handler = jsonRoute({ body: TokenBody }, ({ body, client }) => signIn().token(body, client))
