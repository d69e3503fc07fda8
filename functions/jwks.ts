/** GET /.well-known/jwks.json — the public keys that verify our tokens (RFC 7517), current and, during a rotation, previous. */
import { getConfig } from '../lib/config.js'
import { jsonRoute } from '../lib/http/route.js'
import { configureLogging } from '../lib/log.js'
import type { TokenService } from '../lib/tokens/service.js'
import { createTokenService } from '../lib/tokens/service.js'

// Only the token service: this function never touches the database.
let tokens: TokenService | undefined

export const handler = jsonRoute({ unwrapped: true, headers: { 'Cache-Control': 'public, max-age=300' } }, () => {
  if (!tokens) {
    const config = getConfig()
    configureLogging(config)
    tokens = createTokenService(config.jwt)
  }
  return tokens.jwks()
})
