/** GET /auth/identities — the provider accounts linked to the identity, and whether it has a password. Behind the authorizer. */
import { perContainer } from '../lib/app.js'
import { jsonRoute } from '../lib/http/route.js'
import { createLinks } from '../lib/oauth/links.js'
import { oauthParts } from '../lib/oauth/parts.js'

const links = perContainer((app) => createLinks(oauthParts(app)))

export const handler = jsonRoute({ authenticated: true }, ({ user }) => links().list(user))
