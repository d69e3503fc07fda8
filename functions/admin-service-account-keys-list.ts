/** GET /admin/service-accounts/{id}/keys — the account's keys, metadata only. Needs service_accounts:manage and a second factor. Behind the authorizer. */
import { perContainer } from '../lib/app.js'
import { jsonRoute } from '../lib/http/route.js'
import { serviceAccountAdminOf } from '../lib/keys/admin.js'
import { serviceAccountParameter } from '../lib/keys/requests.js'

const rules = perContainer(serviceAccountAdminOf)

export const handler = jsonRoute({ authenticated: true }, ({ user, event, client }) =>
  rules().listKeys(user, serviceAccountParameter(event.pathParameters), client),
)
