/** GET /.well-known/jwks.json — the public keys that verify our tokens (RFC 7517), current and, during a rotation, previous. */
import { getPublicConfig } from '../lib/config.js'
import { jsonRoute } from '../lib/http/route.js'
import { configureLogging } from '../lib/log.js'
import { publicJwks } from '../lib/tokens/discovery.js'

// Public keys only: this function reads no secret (not even from SSM) and never touches the database.
export const handler = jsonRoute({ unwrapped: true, readsSecrets: false, headers: { 'Cache-Control': 'public, max-age=300' } }, () => {
  const config = getPublicConfig()
  configureLogging(config)
  return publicJwks(config.jwt)
})
