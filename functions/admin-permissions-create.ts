/** POST /admin/permissions — define a permission (`resource:action`). Needs attune:admin. Behind the authorizer. */
import { perContainer } from '../lib/app.js'
import { adminRulesOf } from '../lib/authz/admin.js'
import { CreatePermissionBody } from '../lib/authz/requests.js'
import { jsonRoute } from '../lib/http/route.js'

const rules = perContainer(adminRulesOf)

export const handler = jsonRoute({ authenticated: true, body: CreatePermissionBody, status: 201 }, ({ user, body, client }) =>
  rules().createPermission(user, body, client),
)
