/** GET /.well-known/openid-configuration — `issuer` and `jwks_uri`, for API Gateway's built-in JWT authorizers. */
import { getApp } from '../lib/app.js'
import { openIdConfiguration } from '../lib/discovery.js'
import { jsonRoute } from '../lib/http.js'

export const handler = jsonRoute({ unwrapped: true, headers: { 'Cache-Control': 'public, max-age=300' } }, async ({ event }) =>
  openIdConfiguration(getApp().config, event),
)
