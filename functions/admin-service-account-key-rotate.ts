/** POST /admin/service-accounts/{id}/keys/{keyId}/rotate — a successor key, answered once; the old one overlaps it. Needs service_accounts:manage and a second factor. Behind the authorizer. */
import { perContainer } from '../lib/app.js'
import { jsonRoute } from '../lib/http/route.js'
import { serviceAccountAdminOf } from '../lib/keys/admin.js'
import { keyIdParameter, serviceAccountParameter } from '../lib/keys/requests.js'

const rules = perContainer(serviceAccountAdminOf)

export const handler = jsonRoute({ authenticated: true, status: 201 }, ({ user, event, client }) =>
  rules().rotateKey(user, serviceAccountParameter(event.pathParameters), keyIdParameter(event.pathParameters), client),
)
