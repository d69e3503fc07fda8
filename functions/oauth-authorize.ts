/** GET /auth/oauth/{provider}/authorize — start a sign-in with a provider: 302 to it (the client's redirect_uri allowed, its PKCE challenge kept). */
import { perContainer } from '../lib/app.js'
import { redirectRoute } from '../lib/http/route.js'
import { withChallenges } from '../lib/mfa/challenges.js'
import { oauthParts } from '../lib/oauth/parts.js'
import { AuthorizeQuery, providerParameter } from '../lib/oauth/requests.js'
import { createOAuthSignIn } from '../lib/oauth/sign-in.js'

const signIn = perContainer((app) => createOAuthSignIn(withChallenges(oauthParts(app))))

export const handler = redirectRoute({ query: AuthorizeQuery }, ({ event, query }) =>
  signIn().authorize(providerParameter(event.pathParameters), query),
)
