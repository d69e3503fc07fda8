/** DELETE /auth/identities/{id} — unlink a provider account, never the last way in. Behind the authorizer. */
import { perContainer } from '../lib/app.js'
import { jsonRoute } from '../lib/http/route.js'
import { createLinks } from '../lib/oauth/links.js'
import { oauthParts } from '../lib/oauth/parts.js'
import { linkIdParameter } from '../lib/oauth/requests.js'

const links = perContainer((app) => createLinks(oauthParts(app)))

export const handler = jsonRoute({ authenticated: true }, ({ user, event, client }) =>
  links().unlink(user, linkIdParameter(event.pathParameters), client),
)
