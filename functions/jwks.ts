/** GET /.well-known/jwks.json — the public keys that verify our tokens (RFC 7517), current and, during a rotation, previous. */
import type { Config } from '../lib/config.js'
import { getConfig } from '../lib/config.js'
import { jsonRoute } from '../lib/http/route.js'
import { configureLogging } from '../lib/log.js'
import type { TokenService } from '../lib/tokens/service.js'
import { createTokenService } from '../lib/tokens/service.js'

// Only the token service: this function never touches the database.
let tokens: { config: Config; service: TokenService } | undefined

export const handler = jsonRoute({ unwrapped: true, headers: { 'Cache-Control': 'public, max-age=300' } }, () => {
  const config = getConfig()
  if (tokens?.config !== config) {
    configureLogging(config)
    tokens = { config, service: createTokenService(config.jwt) }
  }
  return tokens.service.jwks()
})
