/** PUT /admin/roles/{name}/permissions — replace a role's permissions (every holder sees it on its next request). Needs attune:admin. */
import { perContainer } from '../lib/app.js'
import { adminRulesOf } from '../lib/authz/admin.js'
import { RolePermissionsBody, roleNameParameter } from '../lib/authz/requests.js'
import { jsonRoute } from '../lib/http/route.js'

const rules = perContainer(adminRulesOf)

export const handler = jsonRoute({ authenticated: true, body: RolePermissionsBody }, ({ user, body, event, client }) =>
  rules().setRolePermissions(user, roleNameParameter(event.pathParameters), body, client),
)
