/** GET /admin/roles — every role with its permissions. Needs attune:admin. Behind the authorizer. */
import { perContainer } from '../lib/app.js'
import { adminRulesOf } from '../lib/authz/admin.js'
import { jsonRoute } from '../lib/http/route.js'

const rules = perContainer(adminRulesOf)

export const handler = jsonRoute({ authenticated: true }, ({ user, client }) => rules().listRoles(user, client))
