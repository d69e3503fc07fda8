/** GET /auth/oauth/{provider}/callback — the provider's answer: checked, then 302 to the client's redirect_uri with a one-time code. */
import { perContainer } from '../lib/app.js'
import { redirectRoute } from '../lib/http/route.js'
import { withChallenges } from '../lib/mfa/challenges.js'
import { oauthParts } from '../lib/oauth/parts.js'
import { CallbackQuery, providerParameter } from '../lib/oauth/requests.js'
import { createOAuthSignIn } from '../lib/oauth/sign-in.js'

const signIn = perContainer((app) => createOAuthSignIn(withChallenges(oauthParts(app))))

export const handler = redirectRoute({ query: CallbackQuery }, ({ event, query, client }) =>
  signIn().callback(providerParameter(event.pathParameters), query, client),
)
