/** POST /admin/service-accounts — create a service account. Needs service_accounts:manage and a second factor. Behind the authorizer. */
import { perContainer } from '../lib/app.js'
import { jsonRoute } from '../lib/http/route.js'
import { serviceAccountAdminOf } from '../lib/keys/admin.js'
import { CreateServiceAccountBody } from '../lib/keys/requests.js'

const rules = perContainer(serviceAccountAdminOf)

export const handler = jsonRoute({ authenticated: true, body: CreateServiceAccountBody, status: 201 }, ({ user, body, client }) =>
  rules().createAccount(user, body, client),
)
