/** GET /admin/identities?login= — the identity with that login or verified email (none or one). Needs attune:admin. */
import { perContainer } from '../lib/app.js'
import { adminRulesOf } from '../lib/authz/admin.js'
import { IdentitySearchQuery } from '../lib/authz/requests.js'
import { jsonRoute } from '../lib/http/route.js'

const rules = perContainer(adminRulesOf)

export const handler = jsonRoute({ authenticated: true, query: IdentitySearchQuery }, ({ user, query, client }) =>
  rules().findIdentities(user, query, client),
)
