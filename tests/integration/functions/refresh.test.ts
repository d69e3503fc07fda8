import { describe, expect, it } from 'vitest'
import { getApp } from '../../../lib/app.js'
import { api, registerUser, TOKEN_PAIR } from '../../support/api.js'
import { accessClaims, forge } from '../../support/tokens.js'

describe('POST /auth/refresh', () => {
  it('answers a new token pair for a valid refresh token', async () => {
    const { tokens, identityId } = await registerUser()
    const res = await api.refresh({ refresh_token: tokens.refresh_token })
    expect(res.status).toBe(200)
    expect(res.body.data).toEqual(TOKEN_PAIR)
    expect(res.body.data.access_token).not.toBe(tokens.access_token)
    await expect(getApp().tokens.verifyAccessToken(res.body.data.access_token)).resolves.toMatchObject({ identityId })
  })

  it('answers 401 for an access token presented as a refresh token', async () => {
    const { tokens } = await registerUser()
    expect(await api.refresh({ refresh_token: tokens.access_token })).toMatchObject({
      status: 401,
      body: { error: 'Invalid refresh token', code: 'UNAUTHORIZED', reason: 'refresh_token_invalid' },
    })
  })

  it('answers 401 "Refresh token expired" for an expired refresh token', async () => {
    const { jwt } = getApp().config
    const iat = Math.floor(Date.now() / 1000) - 700_000
    const expired = await forge(
      accessClaims({ iss: jwt.issuer, aud: jwt.audience, iat, exp: iat + 604800 }),
      { typ: 'refresh+jwt' },
      jwt.secret,
    )
    expect(await api.refresh({ refresh_token: expired })).toMatchObject({
      status: 401,
      body: { error: 'Refresh token expired', code: 'UNAUTHORIZED', reason: 'refresh_token_expired' },
    })
  })

  it('answers 401 for a garbage or forged refresh token', async () => {
    const { jwt } = getApp().config
    const forged = await forge(
      accessClaims({ iss: jwt.issuer, aud: jwt.audience }),
      { typ: 'refresh+jwt' },
      new TextEncoder().encode('attacker-secret-of-at-least-32-bytes!!!'),
    )
    for (const refresh_token of ['garbage', forged]) {
      expect(await api.refresh({ refresh_token })).toMatchObject({
        status: 401,
        body: { error: 'Invalid refresh token', code: 'UNAUTHORIZED', reason: 'refresh_token_invalid' },
      })
    }
  })

  it('answers 401 when the identity no longer exists', async () => {
    const { tokens, identityId } = await registerUser()
    await getApp().sql`delete from attune.identity where id = ${identityId}`
    expect(await api.refresh({ refresh_token: tokens.refresh_token })).toMatchObject({ status: 401, body: { code: 'UNAUTHORIZED' } })
  })

  it('answers 400 for a missing or non-string refresh_token', async () => {
    expect((await api.refresh({})).body).toEqual({ error: 'refresh_token is required', code: 'BAD_REQUEST', reason: 'invalid_field' })
    expect((await api.refresh({ refresh_token: 5 })).body).toEqual({
      error: 'refresh_token must be a string',
      code: 'BAD_REQUEST',
      reason: 'invalid_field',
    })
  })
})
