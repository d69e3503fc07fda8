/** DELETE /admin/identities/{id}/sessions — end every session of an identity. Needs attune:admin and a second factor. Behind the authorizer. */
import { perContainer } from '../lib/app.js'
import { identityIdParameter } from '../lib/authz/requests.js'
import { suspensionAdminOf } from '../lib/authz/suspension-admin.js'
import { jsonRoute } from '../lib/http/route.js'

const rules = perContainer(suspensionAdminOf)

export const handler = jsonRoute({ authenticated: true }, ({ user, event, client }) =>
  rules().endSessions(user, identityIdParameter(event.pathParameters), client),
)
