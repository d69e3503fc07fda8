/** PUT /admin/identities/{id}/roles — make an identity's roles exactly these (refused on its next request otherwise). Needs attune:admin. */
import { perContainer } from '../lib/app.js'
import { adminRulesOf } from '../lib/authz/admin.js'
import { IdentityRolesBody, identityIdParameter } from '../lib/authz/requests.js'
import { jsonRoute } from '../lib/http/route.js'

const rules = perContainer(adminRulesOf)

export const handler = jsonRoute({ authenticated: true, body: IdentityRolesBody }, ({ user, body, event, client }) =>
  rules().setIdentityRoles(user, identityIdParameter(event.pathParameters), body, client),
)
