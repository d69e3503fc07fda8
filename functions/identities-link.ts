/** POST /auth/identities/{provider}/link — link a provider account: start (an authorization URL), then finish (the one-time code). Behind the authorizer. */
import { perContainer } from '../lib/app.js'
import { jsonRoute } from '../lib/http/route.js'
import { createLinks } from '../lib/oauth/links.js'
import { oauthParts } from '../lib/oauth/parts.js'
import { LinkBody, providerParameter } from '../lib/oauth/requests.js'

const links = perContainer((app) => createLinks(oauthParts(app)))

export const handler = jsonRoute({ authenticated: true, body: LinkBody }, ({ user, body, event, client }) =>
  links().link(user, providerParameter(event.pathParameters), body, client),
)
