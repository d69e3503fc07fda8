/**
 * The authorizer's warm per-call cost: the whole decision (verify + one indexed session lookup on a
 * real PostgreSQL), the decision without the lookup, and a bare jose jwtVerify with the key imported once.
 */
import { jwtVerify } from 'jose'
import { webcrypto } from 'node:crypto'
import { bench, describe } from 'vitest'
import { handler } from '../../functions/authorizer.js'
import { getApp } from '../../lib/app.js'
import { decide } from '../../lib/authorizer.js'
import { requestAuthorizerEvent } from '../support/events.js'
import { registerUser } from '../support/api.js'

const app = getApp()
const user = await registerUser()
const event = requestAuthorizerEvent({ Authorization: `Bearer ${user.tokens.access_token}` })
const key = await webcrypto.subtle.importKey('raw', app.config.jwt.secret, { name: 'HMAC', hash: 'SHA-256' }, false, ['verify'])
const alwaysActive = { isActive: async () => true }

describe('authorizer, warm, per call', () => {
  bench('jose jwtVerify alone (key imported once)', async () => {
    await jwtVerify(user.tokens.access_token, key, { algorithms: ['HS256'] })
  })
  bench('decision without the session lookup', async () => {
    await decide(event, { tokens: app.tokens, sessions: alwaysActive })
  })
  bench('session lookup alone (one indexed query)', async () => {
    await app.sessions.isActive(user.tokens.access_token.length > 0 ? (await app.tokens.verifyAccessToken(user.tokens.access_token)).sessionId : '')
  })
  bench('whole authorizer handler (verify + session lookup + policy)', async () => {
    await handler(event)
  })
})
