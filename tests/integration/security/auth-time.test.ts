/**
 * `auth_time` is whole seconds, floored: a sign-in is never reported later than it happened, or a route's
 * `max_age` (RFC 9470, STEP_UP_MAX_AGE) would let it pass for up to half a second too long.
 */
import { decodeJwt } from 'jose'
import { describe, expect, it } from 'vitest'
import { getApp } from '../../../lib/app.js'
import { api, authorizerContextFor, registerUser } from '../../support/api.js'

describe('auth_time', () => {
  it('is floored, never rounded, in the authorizer context and in refreshed access tokens', async () => {
    const user = await registerUser()
    const sql = getApp().sql
    // A sign-in at .6 past a whole second: rounding would report the next second.
    const [row] = await sql<{ at: string }[]>`
      update attune.session set auth_time = date_trunc('second', now()) - interval '300.4 seconds'
      where identity_id = ${user.identityId} returning extract(epoch from auth_time)::text as at`
    const exact = Number(row?.at)
    expect(exact % 1).toBeCloseTo(0.6)
    const context = await authorizerContextFor('GET', '/auth/me', user.tokens.access_token)
    expect(Number(context['authTime'])).toBe(Math.floor(exact))
    const refreshed = await api.refresh({ refresh_token: user.tokens.refresh_token })
    expect(decodeJwt(refreshed.body.data.access_token)['auth_time']).toBe(Math.floor(exact))
  })
})
