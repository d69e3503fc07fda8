import { randomUUID } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { getApp } from '../../../lib/app.js'
import { createSessionRepository } from '../../../lib/db/sessions.js'
import { PASSWORD_SIGN_IN } from '../../../lib/tokens/claims.js'
import { api, registerUser, TOKEN_PAIR } from '../../support/api.js'

const REUSED = {
  error: 'Refresh token already used: the session has been revoked',
  code: 'REFRESH_TOKEN_REUSED',
  reason: 'refresh_token_reused',
}
const INVALID_REFRESH = { error: 'Invalid refresh token', code: 'UNAUTHORIZED', reason: 'refresh_token_invalid' }
const ENDED = { error: 'Session has ended', code: 'UNAUTHORIZED', reason: 'session_ended' }

const sessionOf = async (accessToken: string): Promise<string> => (await getApp().tokens.verifyAccessToken(accessToken)).sessionId

describe('refresh token rotation', () => {
  it('retires the presented refresh token: the new one works, the session stays the same', async () => {
    const { tokens } = await registerUser()
    const first = await api.refresh({ refresh_token: tokens.refresh_token })
    expect(first.status).toBe(200)
    expect(first.body.data.refresh_token).not.toBe(tokens.refresh_token)
    expect(await sessionOf(first.body.data.access_token)).toBe(await sessionOf(tokens.access_token))
    expect((await api.refresh({ refresh_token: first.body.data.refresh_token })).status).toBe(200)
  })

  it('answers a replay within the grace window with the same pair (both tokens), never a second one', async () => {
    const { tokens } = await registerUser()
    const first = await api.refresh({ refresh_token: tokens.refresh_token })
    const retry = await api.refresh({ refresh_token: tokens.refresh_token })
    expect(retry.status).toBe(200)
    expect(retry.body.data).toEqual(first.body.data)
  })

  it('gives 12 parallel refreshes of one token exactly one successor pair: one access token, not twelve', async () => {
    const { tokens } = await registerUser()
    const results = await Promise.all(Array.from({ length: 12 }, () => api.refresh({ refresh_token: tokens.refresh_token })))
    expect(results.map((r) => r.status)).toEqual(Array(12).fill(200))
    expect(new Set(results.map((r) => r.body.data.refresh_token)).size).toBe(1)
    expect(new Set(results.map((r) => r.body.data.access_token)).size).toBe(1)
    const [row] = await getApp()
      .sql`select count(*)::int as n from attune.session where id = ${await sessionOf(tokens.access_token)} and revoked is null`
    expect(row?.['n']).toBe(1)
  })

  it('treats a replay of an older token as theft: after four refreshes, replaying the first kills every token of the session', async () => {
    const { tokens } = await registerUser()
    const chain = [tokens]
    for (let i = 0; i < 4; i++) chain.push((await api.refresh({ refresh_token: chain[i]!.refresh_token })).body.data)
    // The first token is two rotations old: outside any grace, it can only be a stolen copy.
    expect(await api.refresh({ refresh_token: chain[0]!.refresh_token })).toMatchObject({ status: 401, body: REUSED })
    for (const pair of chain) {
      expect(await api.refresh({ refresh_token: pair.refresh_token })).toMatchObject({ status: 401, body: INVALID_REFRESH })
      expect(await api.me(pair.access_token)).toMatchObject({ status: 401, body: ENDED })
    }
  })

  it('treats the just-retired token as a replay once the grace window has passed', async () => {
    const { tokens } = await registerUser()
    await api.refresh({ refresh_token: tokens.refresh_token })
    const sessionId = await sessionOf(tokens.access_token)
    await getApp().sql`update attune.session set rotated = now() - interval '1 minute' where id = ${sessionId}`
    expect(await api.refresh({ refresh_token: tokens.refresh_token })).toMatchObject({ status: 401, body: REUSED })
  })

  it('refuses a refresh token of an ended session', async () => {
    const { tokens } = await registerUser()
    await api.logout(tokens.access_token)
    expect(await api.refresh({ refresh_token: tokens.refresh_token })).toMatchObject({ status: 401, body: INVALID_REFRESH })
  })
})

describe('POST /auth/logout', () => {
  it('ends only the current session by default', async () => {
    const user = await registerUser()
    const other = (await api.login({ login: user.login, password: user.password })).body.data
    expect(await api.logout(user.tokens.access_token)).toMatchObject({ status: 200, body: { data: { success: true, sessions_ended: 1 } } })
    expect(await api.me(user.tokens.access_token)).toMatchObject({ status: 401, body: ENDED })
    expect((await api.me(other.access_token)).status).toBe(200)
  })

  it('ends every session with scope "global"', async () => {
    const user = await registerUser()
    const other = (await api.login({ login: user.login, password: user.password })).body.data
    expect((await api.logout(user.tokens.access_token, { scope: 'global' })).body.data.sessions_ended).toBe(2)
    expect((await api.me(user.tokens.access_token)).status).toBe(401)
    expect((await api.me(other.access_token)).status).toBe(401)
  })

  it('ends every other session with scope "others"', async () => {
    const user = await registerUser()
    const a = (await api.login({ login: user.login, password: user.password })).body.data
    const b = (await api.login({ login: user.login, password: user.password })).body.data
    expect((await api.logout(user.tokens.access_token, { scope: 'others' })).body.data.sessions_ended).toBe(2)
    expect((await api.me(user.tokens.access_token)).status).toBe(200)
    expect((await api.me(a.access_token)).status).toBe(401)
    expect((await api.me(b.access_token)).status).toBe(401)
  })

  it('answers 400 for an unknown scope and 401 without a token', async () => {
    const { tokens } = await registerUser()
    expect(await api.logout(tokens.access_token, { scope: 'everything' })).toMatchObject({
      status: 400,
      body: { error: 'scope must be one of local, global, others', code: 'BAD_REQUEST', reason: 'invalid_field' },
    })
    expect((await api.logout(undefined)).status).toBe(401)
  })
})

describe('GET /auth/sessions and DELETE /auth/sessions/{id}', () => {
  it('lists the active sessions with created, last used, user agent and source IP, marking the current one', async () => {
    const user = await registerUser()
    await api.login({ login: user.login, password: user.password })
    const res = await api.sessions(user.tokens.access_token)
    expect(res.status).toBe(200)
    expect(res.body.data).toHaveLength(2)
    const current = await sessionOf(user.tokens.access_token)
    for (const session of res.body.data) {
      expect(session).toEqual({
        id: expect.stringMatching(/^[0-9a-f-]{36}$/),
        created: expect.any(String),
        last_used: expect.any(String),
        user_agent: 'PostmanRuntime/2.4.5',
        source_ip: '192.168.196.186',
        current: session.id === current,
      })
    }
    expect(res.body.data.filter((s: { current: boolean }) => s.current)).toHaveLength(1)
  })

  it('ends one session by id', async () => {
    const user = await registerUser()
    const other = (await api.login({ login: user.login, password: user.password })).body.data
    const otherId = await sessionOf(other.access_token)
    expect(await api.endSession(user.tokens.access_token, otherId)).toMatchObject({
      status: 200,
      body: { data: { success: true, sessions_ended: 1 } },
    })
    expect((await api.me(other.access_token)).status).toBe(401)
    expect((await api.sessions(user.tokens.access_token)).body.data).toHaveLength(1)
  })

  it('answers 404 for another identity’s session, an ended one, or an id that is not one', async () => {
    const alice = await registerUser()
    const bob = await registerUser()
    const bobSession = await sessionOf(bob.tokens.access_token)
    expect(await api.endSession(alice.tokens.access_token, bobSession)).toMatchObject({
      status: 404,
      body: { error: 'Session not found', code: 'NOT_FOUND', reason: 'session_not_found' },
    })
    expect((await api.me(bob.tokens.access_token)).status).toBe(200)
    expect((await api.endSession(alice.tokens.access_token, 'not-a-uuid')).status).toBe(404)
  })
})

describe('password change and sessions', () => {
  it('ends every other session; the current one stays usable', async () => {
    const user = await registerUser()
    const other = (await api.login({ login: user.login, password: user.password })).body.data
    const res = await api.changePassword(user.tokens.access_token, {
      current_password: user.password,
      new_password: 'a-brand-new-password',
    })
    expect(res).toMatchObject({ status: 200, body: { data: { success: true, message: 'Password changed successfully' } } })
    expect((await api.me(user.tokens.access_token)).status).toBe(200)
    expect((await api.refresh({ refresh_token: res.body.data.refresh_token })).status).toBe(200)
    expect(await api.me(other.access_token)).toMatchObject({ status: 401, body: ENDED })
    expect(await api.refresh({ refresh_token: other.refresh_token })).toMatchObject({ status: 401, body: INVALID_REFRESH })
  })

  it('answers the current session’s new pair; its refresh token from before the change is retired, with no grace', async () => {
    const user = await registerUser()
    const res = await api.changePassword(user.tokens.access_token, {
      current_password: user.password,
      new_password: 'a-brand-new-password',
    })
    expect(res.body.data).toEqual({ success: true, message: 'Password changed successfully', ...TOKEN_PAIR })
    expect(await sessionOf(res.body.data.access_token)).toBe(await sessionOf(user.tokens.access_token))
    // Presenting the old refresh token is a replay: whoever holds it, the session is revoked.
    expect(await api.refresh({ refresh_token: user.tokens.refresh_token })).toMatchObject({ status: 401, body: REUSED })
    expect(await api.me(res.body.data.access_token)).toMatchObject({ status: 401, body: ENDED })
    expect(await api.refresh({ refresh_token: res.body.data.refresh_token })).toMatchObject({ status: 401, body: INVALID_REFRESH })
  })
})

describe('session lifetime and number', () => {
  it('ends a session at SESSION_MAX_AGE from its creation, however often it was refreshed', async () => {
    const user = await registerUser()
    const sessionId = await sessionOf(user.tokens.access_token)
    const maxAge = getApp().config.sessions.maxAge
    // A session created just over the maximum age ago, refreshed a moment ago (its idle expiry is days away).
    await getApp().sql`
      update attune.session set created = now() - make_interval(secs => ${maxAge + 1}), expires = now() + interval '5 days'
      where id = ${sessionId}`
    expect(await api.me(user.tokens.access_token)).toMatchObject({ status: 401, body: ENDED })
    expect(await api.refresh({ refresh_token: user.tokens.refresh_token })).toMatchObject({ status: 401, body: INVALID_REFRESH })
  })

  it('never extends a session past SESSION_MAX_AGE when refreshing it', async () => {
    const user = await registerUser()
    const sessionId = await sessionOf(user.tokens.access_token)
    const maxAge = getApp().config.sessions.maxAge
    await getApp().sql`update attune.session set created = now() - make_interval(secs => ${maxAge - 3600}) where id = ${sessionId}`
    expect((await api.refresh({ refresh_token: user.tokens.refresh_token })).status).toBe(200)
    const [row] = await getApp()
      .sql`select extract(epoch from expires - created)::int as lifetime from attune.session where id = ${sessionId}`
    expect(row?.['lifetime']).toBe(maxAge)
  })

  it('keeps at most MAX_SESSIONS_PER_IDENTITY active sessions: opening one more ends the oldest', async () => {
    const user = await registerUser()
    const app = getApp()
    const sessions = createSessionRepository(app.sql, { ...app.config.sessions, maxPerIdentity: 3 })
    const [identity] = await app.sql`select credentials_version from attune.identity where id = ${user.identityId}`
    const opened: string[] = [await sessionOf(user.tokens.access_token)]
    for (let i = 0; i < 4; i++) {
      const id = randomUUID()
      const refresh = app.tokens.newRefreshTokenId()
      await app.sql`select pg_sleep(0.01)` // distinct creation times, so "oldest" is well defined
      expect(
        await sessions.open({
          id,
          identityId: user.identityId,
          credentialsVersion: Number(identity?.['credentials_version']),
          assurance: PASSWORD_SIGN_IN,
          refreshTokenId: refresh.tokenId,
          refreshIssuedAt: refresh.issuedAt,
          requestId: null,
          userAgent: null,
          sourceIp: null,
        }),
      ).toEqual({ permissions: [], authzVersion: 0, acr: 'aal1', amr: ['pwd'], authTime: expect.any(Number) })
      opened.push(id)
    }
    const rows =
      await app.sql`select id, revoked is null as active, revoked_reason from attune.session where identity_id = ${user.identityId}`
    const state = Object.fromEntries(rows.map((row) => [row['id'], row['active'] ? 'active' : row['revoked_reason']]))
    expect(opened.map((id) => state[id])).toEqual(['session_limit', 'session_limit', 'active', 'active', 'active'])
    expect(await api.me(user.tokens.access_token)).toMatchObject({ status: 401, body: ENDED })
  })
})
