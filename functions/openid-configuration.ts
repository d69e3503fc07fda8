/** GET /.well-known/openid-configuration — `issuer` and `jwks_uri`, for API Gateway's built-in JWT authorizers. */
import { getPublicConfig } from '../lib/config.js'
import { jsonRoute } from '../lib/http/route.js'
import { configureLogging } from '../lib/log.js'
import { openIdConfiguration } from '../lib/tokens/discovery.js'

// Only the public configuration: this function reads no secret, never touches the database or the request's headers.
export const handler = jsonRoute(
  { unwrapped: true, readsSecrets: false, headers: { 'Cache-Control': 'public, max-age=300' } },
  async () => {
    const config = getPublicConfig()
    configureLogging(config)
    return openIdConfiguration(config)
  },
)
