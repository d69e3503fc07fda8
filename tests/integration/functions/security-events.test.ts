import { randomUUID } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { getApp } from '../../../lib/app.js'
import { encodeCursor } from '../../../lib/auth/requests.js'
import type { RegisteredUser } from '../../support/api.js'
import { api, registerUser } from '../../support/api.js'

/** Every page of the caller's events, following next_cursor with `limit` per page. */
async function allPages(user: RegisteredUser, limit: number): Promise<{ pages: number; events: any[] }> {
  const events: any[] = []
  let cursor: string | null = null
  let pages = 0
  do {
    const res: { status: number; body: any } = await api.securityEvents(user.tokens.access_token, {
      limit: String(limit),
      ...(cursor ? { cursor } : {}),
    })
    expect(res.status).toBe(200)
    expect(res.body.data.events.length).toBeLessThanOrEqual(limit)
    events.push(...res.body.data.events)
    cursor = res.body.data.next_cursor
    pages++
  } while (cursor)
  return { pages, events }
}

describe('GET /auth/security-events', () => {
  it("answers the caller's own events newest first, marking those of the current session", async () => {
    const user = await registerUser()
    const other = await api.login({ login: user.login, password: user.password })
    await api.logout(other.body.data.access_token)
    const res = await api.securityEvents(user.tokens.access_token)
    expect(res.status).toBe(200)
    const events = res.body.data.events
    expect(events.map((e: { type: string }) => e.type)).toEqual([
      'session.ended',
      'session.created',
      expect.any(String),
      expect.any(String),
    ])
    expect(
      events
        .slice(2)
        .map((e: { type: string }) => e.type)
        .sort(),
    ).toEqual(['identity.registered', 'session.created'])
    expect(events[0]).toEqual({
      id: expect.any(Number),
      type: 'session.ended',
      occurred_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      source_ip: expect.any(String),
      user_agent: expect.any(String),
      current_session: false,
      reason: 'logout',
    })
    // The registration opened the session making this request; the login's was another one.
    const created = events.filter((e: { type: string }) => e.type === 'session.created')
    expect(created.map((e: { current_session: boolean }) => e.current_session).sort()).toEqual([false, true])
    expect(events.find((e: { type: string }) => e.type === 'identity.registered').current_session).toBe(false)
    expect(res.body.data.next_cursor).toBeNull()
  })

  it('pages through every event exactly once with next_cursor', async () => {
    const user = await registerUser()
    for (let i = 0; i < 3; i++) {
      const session = await api.login({ login: user.login, password: user.password })
      await api.logout(session.body.data.access_token)
    }
    const whole = await api.securityEvents(user.tokens.access_token, { limit: '100' })
    const ids = whole.body.data.events.map((e: { id: number }) => e.id)
    expect(ids).toHaveLength(8)
    expect([...ids].sort((a: number, b: number) => b - a)).toEqual(ids)
    const paged = await allPages(user, 3)
    expect(paged.pages).toBe(3)
    expect(paged.events.map((e) => e.id)).toEqual(ids)
  })

  it("never shows another identity's events, even with a cursor made from them", async () => {
    const alice = await registerUser()
    const mallory = await registerUser()
    await api.login({ login: alice.login, password: alice.password })
    const aliceIds = (await api.securityEvents(alice.tokens.access_token)).body.data.events.map((e: { id: number }) => e.id)
    const seen = await allPages(mallory, 1)
    expect(seen.events.map((e) => e.id).filter((id) => aliceIds.includes(id))).toEqual([])
    const beyondAlice = await api.securityEvents(mallory.tokens.access_token, { cursor: encodeCursor(Math.max(...aliceIds) + 1) })
    expect(beyondAlice.body.data.events.map((e: { id: number }) => e.id).filter((id: number) => aliceIds.includes(id))).toEqual([])
    const rows = await getApp()
      .sql`select distinct identity_id from attune.audit_event where id in ${getApp().sql(seen.events.map((e) => e.id))}`
    expect(rows).toEqual([{ identity_id: String(mallory.identityId) }])
  })

  it('shows only the last AUDIT_USER_VISIBLE_DAYS days', async () => {
    const user = await registerUser()
    const { sql, config } = getApp()
    const old = new Date(Date.now() - (config.audit.userVisibleDays + 1) * 86_400_000)
    const month = `${old.getUTCFullYear()}_${String(old.getUTCMonth() + 1).padStart(2, '0')}`
    const from = `${old.getUTCFullYear()}-${String(old.getUTCMonth() + 1).padStart(2, '0')}-01 00:00:00+00`
    const [next] = await sql<{ to: string }[]>`select to_char(${from}::timestamptz + interval '1 month', 'YYYY-MM-DD "00:00:00+00"') as to`
    await sql.unsafe(
      `create table if not exists attune.audit_event_${month} partition of attune.audit_event for values from ('${from}') to ('${next?.to}')`,
    )
    await sql`
      insert into attune.audit_event (occurred_at, type, outcome, identity_id, actor_type, session_id)
      values (${old}, 'session.created', 'success', ${user.identityId}, 'user', ${randomUUID()})`
    const events = (await api.securityEvents(user.tokens.access_token)).body.data.events
    expect(events.map((e: { type: string }) => e.type).sort()).toEqual(['identity.registered', 'session.created'])
  })

  it.each([
    [{ limit: '0' }, 'limit must be a whole number from 1 to 100'],
    [{ limit: '101' }, 'limit must be a whole number from 1 to 100'],
    [{ limit: 'ten' }, 'limit must be a whole number from 1 to 100'],
    [{ cursor: 'not a cursor!' }, 'cursor is not a cursor this API issued'],
    [{ cursor: Buffer.from("1' or 1=1").toString('base64url') }, 'cursor is not a cursor this API issued'],
  ])('refuses %j with a 400 naming the parameter', async (query, error) => {
    const user = await registerUser()
    const res = await api.securityEvents(user.tokens.access_token, query)
    expect(res).toMatchObject({ status: 400, body: { error, code: 'BAD_REQUEST', reason: 'invalid_field' } })
  })

  it('refuses a request without a valid token with 401', async () => {
    expect((await api.securityEvents(undefined)).status).toBe(401)
    expect((await api.securityEvents('not-a-token')).status).toBe(401)
  })
})
