/** DELETE /admin/service-accounts/{id}/keys/{keyId} — revoke a key: refused on its next request. Needs service_accounts:manage and a second factor. Behind the authorizer. */
import { perContainer } from '../lib/app.js'
import { jsonRoute } from '../lib/http/route.js'
import { serviceAccountAdminOf } from '../lib/keys/admin.js'
import { keyIdParameter, serviceAccountParameter } from '../lib/keys/requests.js'

const rules = perContainer(serviceAccountAdminOf)

export const handler = jsonRoute({ authenticated: true }, ({ user, event, client }) =>
  rules().revokeKey(user, serviceAccountParameter(event.pathParameters), keyIdParameter(event.pathParameters), client),
)
