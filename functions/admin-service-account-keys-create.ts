/** POST /admin/service-accounts/{id}/keys — make an API key, answered this once. Needs service_accounts:manage and a second factor. Behind the authorizer. */
import { perContainer } from '../lib/app.js'
import { jsonRoute } from '../lib/http/route.js'
import { serviceAccountAdminOf } from '../lib/keys/admin.js'
import { CreateKeyBody, serviceAccountParameter } from '../lib/keys/requests.js'

const rules = perContainer(serviceAccountAdminOf)

export const handler = jsonRoute({ authenticated: true, body: CreateKeyBody, status: 201 }, ({ user, body, event, client }) =>
  rules().createKey(user, serviceAccountParameter(event.pathParameters), body, client),
)
