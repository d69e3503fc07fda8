/**
 * A token signed with a leaked (or development) key that pairs the victim's identity with the attacker's
 * own active session: `{sub: <victim>, sid: <attacker's session>}`. Every route must look the session up by
 * `sid` AND `sub`, and refuse; nothing of the victim's may be read or ended, and the attacker's own session
 * is left as it was.
 */
import type { JWTPayload } from 'jose'
import { SignJWT } from 'jose'
import { describe, expect, it } from 'vitest'
import { getApp } from '../../../lib/app.js'
import type { RegisteredUser } from '../../support/api.js'
import { api, registerUser } from '../../support/api.js'

const INVALID = { error: 'Invalid authentication token', code: 'UNAUTHORIZED', reason: 'token_invalid' }

const claimsOf = (token: string): JWTPayload => JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString())

/** The attacker's own token, re-signed with the real key, its subject replaced by the victim's. */
function asVictim(token: string, victim: RegisteredUser, typ: string): Promise<string> {
  const { secret } = getApp().config.jwt
  return new SignJWT({ ...claimsOf(token), sub: String(victim.identityId) }).setProtectedHeader({ alg: 'HS256', typ }).sign(secret)
}

const activeSessions = async (identityId: number): Promise<string[]> =>
  (
    await getApp().sql`
      select id from attune.session where identity_id = ${identityId} and revoked is null and expires > now() order by id`
  ).map((row) => row['id'] as string)

describe('a token naming one identity and another identity’s session', () => {
  it('is refused by every Bearer route, which neither reads nor ends anything of the victim’s', async () => {
    const victim = await registerUser()
    await api.login({ login: victim.login, password: victim.password })
    const attacker = await registerUser()
    const forged = await asVictim(attacker.tokens.access_token, victim, 'at+jwt')
    const victimSessions = await activeSessions(victim.identityId)
    const attackerSessions = await activeSessions(attacker.identityId)

    const me = await api.me(forged)
    expect(me).toMatchObject({ status: 401, body: INVALID })
    expect(JSON.stringify(me.body)).not.toContain(victim.login)
    expect((await api.sessions(forged)).status).toBe(401)
    expect((await api.endSession(forged, victimSessions[0] as string)).status).toBe(401)
    expect((await api.logout(forged, { scope: 'others' })).status).toBe(401)
    expect((await api.logout(forged, { scope: 'global' })).status).toBe(401)
    expect((await api.changePassword(forged, { current_password: victim.password, new_password: 'taken-over-123' })).status).toBe(401)

    expect(await activeSessions(victim.identityId)).toEqual(victimSessions)
    expect(await activeSessions(attacker.identityId)).toEqual(attackerSessions)
    expect((await api.login({ login: victim.login, password: victim.password })).status).toBe(200)
  })

  it('is refused by POST /auth/refresh as an invalid refresh token, which rotates nothing', async () => {
    const victim = await registerUser()
    const attacker = await registerUser()
    const forged = await asVictim(attacker.tokens.refresh_token, victim, 'refresh+jwt')
    expect(await api.refresh({ refresh_token: forged })).toMatchObject({
      status: 401,
      body: { error: 'Invalid refresh token', code: 'UNAUTHORIZED', reason: 'refresh_token_invalid' },
    })
    // The attacker's refresh token was not rotated by the forged one: it still refreshes, once.
    expect((await api.refresh({ refresh_token: attacker.tokens.refresh_token })).status).toBe(200)
    expect((await api.refresh({ refresh_token: victim.tokens.refresh_token })).status).toBe(200)
  })

  it('gets the login from the identity row: a login claim in a validly signed token changes nothing', async () => {
    const user = await registerUser()
    const { secret } = getApp().config.jwt
    const token = await new SignJWT({ ...claimsOf(user.tokens.access_token), login: 'admin' })
      .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt' })
      .sign(secret)
    expect((await api.me(token)).body.data.login).toBe(user.login)
  })

  it('answers "Invalid authentication token" the same for a session id that does not exist', async () => {
    const user = await registerUser()
    const { secret } = getApp().config.jwt
    const token = await new SignJWT({ ...claimsOf(user.tokens.access_token), sid: crypto.randomUUID() })
      .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt' })
      .sign(secret)
    expect(await api.me(token)).toMatchObject({ status: 401, body: INVALID })
  })
})
