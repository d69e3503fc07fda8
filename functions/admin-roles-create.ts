/** POST /admin/roles — define a role with its permissions. Needs attune:admin. Behind the authorizer. */
import { perContainer } from '../lib/app.js'
import { adminRulesOf } from '../lib/authz/admin.js'
import { CreateRoleBody } from '../lib/authz/requests.js'
import { jsonRoute } from '../lib/http/route.js'

const rules = perContainer(adminRulesOf)

export const handler = jsonRoute({ authenticated: true, body: CreateRoleBody, status: 201 }, ({ user, body, client }) =>
  rules().createRole(user, body, client),
)
