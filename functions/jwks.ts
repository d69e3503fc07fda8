/** GET /.well-known/jwks.json — the public keys that verify our tokens (RFC 7517), current and, during a rotation, previous. */
import { getApp } from '../lib/app.js'
import { jsonRoute } from '../lib/http.js'

export const handler = jsonRoute({ unwrapped: true, headers: { 'Cache-Control': 'public, max-age=300' } }, () => getApp().tokens.jwks())
