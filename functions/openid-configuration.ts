/** GET /.well-known/openid-configuration — `issuer` and `jwks_uri`, for API Gateway's built-in JWT authorizers. */
import { getConfig } from '../lib/config.js'
import { jsonRoute } from '../lib/http/route.js'
import { configureLogging } from '../lib/log.js'
import { openIdConfiguration } from '../lib/tokens/discovery.js'

// Only the configuration: this function never touches the database, a key or the request's headers.
export const handler = jsonRoute({ unwrapped: true, headers: { 'Cache-Control': 'public, max-age=300' } }, async () => {
  const config = getConfig()
  configureLogging(config)
  return openIdConfiguration(config)
})
