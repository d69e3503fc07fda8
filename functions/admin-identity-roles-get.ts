/** GET /admin/identities/{id}/roles — an identity's grants, expired ones included. Needs attune:admin. Behind the authorizer. */
import { perContainer } from '../lib/app.js'
import { adminRulesOf } from '../lib/authz/admin.js'
import { identityIdParameter } from '../lib/authz/requests.js'
import { jsonRoute } from '../lib/http/route.js'

const rules = perContainer(adminRulesOf)

export const handler = jsonRoute({ authenticated: true }, ({ user, event, client }) =>
  rules().identityRoles(user, identityIdParameter(event.pathParameters), client),
)
