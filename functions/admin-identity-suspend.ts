/** PUT /admin/identities/{id}/suspension — suspend an identity: every session ends, no sign-in finishes. Needs attune:admin and a second factor. Behind the authorizer. */
import { perContainer } from '../lib/app.js'
import { identityIdParameter, SuspensionBody } from '../lib/authz/requests.js'
import { suspensionAdminOf } from '../lib/authz/suspension-admin.js'
import { jsonRoute } from '../lib/http/route.js'

const rules = perContainer(suspensionAdminOf)

export const handler = jsonRoute({ authenticated: true, body: SuspensionBody }, ({ user, body, event, client }) =>
  rules().suspend(user, identityIdParameter(event.pathParameters), body, client),
)
