/**
 * The audit log: every security-relevant change writes its row in the same statement or transaction as the
 * change. For each event type: the row is there with the change, with who, from where and which request;
 * a change that fails leaves no row; a row that cannot be written leaves no change (a trigger made for the
 * test refuses the rows of requests sent with one marked User-Agent). The table is append-only for the
 * application's role and for its owner.
 */
import { randomUUID } from 'node:crypto'
import type postgres from 'postgres'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { handler as changePasswordHandler } from '../../../functions/change-password.js'
import { handler as endSessionHandler } from '../../../functions/end-session.js'
import { handler as loginHandler } from '../../../functions/login.js'
import { handler as logoutHandler } from '../../../functions/logout.js'
import { handler as maintenance } from '../../../functions/maintenance.js'
import { handler as refreshHandler } from '../../../functions/refresh.js'
import { handler as registerHandler } from '../../../functions/register.js'
import type { App } from '../../../lib/app.js'
import { createApp, getApp } from '../../../lib/app.js'
import { loadConfig } from '../../../lib/config.js'
import { maximumWaitAt } from '../../../lib/db/throttle.js'
import type { RegisteredUser } from '../../support/api.js'
import { api, authorizerContextFor, registerUser } from '../../support/api.js'
import { invoke, lambdaContext, restEvent, uniqueLogin } from '../../support/events.js'
import { loginInput, rulesOf } from '../../support/rules.js'

interface EventRow {
  id: string
  type: string
  outcome: string
  identity_id: string | null
  actor_type: string
  actor_id: string | null
  session_id: string | null
  request_id: string | null
  source_ip: string | null
  user_agent: string | null
  data: Record<string, unknown>
}

const sql = () => getApp().sql

async function eventsOf(identityId: number): Promise<EventRow[]> {
  return sql()<EventRow[]>`select * from attune.audit_event where identity_id = ${identityId} order by id`
}

const typesOf = (rows: EventRow[]) => rows.map((row) => row.type)

/** Events one statement wrote share a timestamp; their ids follow no order among them: compared sorted by type. */
const byType = (rows: EventRow[]) => [...rows].sort((a, b) => a.type.localeCompare(b.type))

async function sessionOf(accessToken: string): Promise<string> {
  return (await getApp().tokens.verifyAccessToken(accessToken)).sessionId
}

async function activeSessions(identityId: number): Promise<string[]> {
  const rows = await sql()<
    { id: string }[]
  >`select id from attune.session where identity_id = ${identityId} and revoked is null order by id`
  return rows.map((row) => row.id)
}

/** A request as API Gateway passes it after our authorizer (when a token is given), with its own User-Agent and request id. */
async function send(
  handler: Parameters<typeof invoke>[0],
  path: string,
  body: unknown,
  options: { token?: string; userAgent?: string; method?: string; pathParameters?: Record<string, string> } = {},
) {
  const method = options.method ?? 'POST'
  const authorizer =
    options.token === undefined ? undefined : await authorizerContextFor(method, path, options.token, options.pathParameters)
  const event = restEvent({
    method,
    path,
    body,
    headers: { 'Content-Type': 'application/json', 'User-Agent': options.userAgent ?? 'audit-test' },
    ...(authorizer ? { authorizer } : {}),
  })
  if (options.pathParameters) event.pathParameters = options.pathParameters
  const res = await invoke(handler, event)
  return { ...res, requestId: event.requestContext.requestId }
}

describe('audit log: one row per change, with the change', () => {
  it('records identity.registered and the first session.created (method registration) with the request that made them', async () => {
    const login = uniqueLogin()
    const res = await send(
      registerHandler,
      '/auth/register',
      { login, password: 'securepassword123' },
      { userAgent: 'registering-agent/1.0' },
    )
    expect(res.status).toBe(200)
    const { identityId, sessionId } = await getApp().tokens.verifyAccessToken(res.body.data.access_token)
    const rows = byType(await eventsOf(identityId))
    expect(typesOf(rows)).toEqual(['identity.registered', 'session.created'])
    for (const row of rows) {
      expect(row).toMatchObject({
        outcome: 'success',
        actor_type: 'user',
        actor_id: String(identityId),
        request_id: res.requestId,
        user_agent: 'registering-agent/1.0',
        source_ip: expect.any(String),
      })
    }
    expect(rows[1]).toMatchObject({ session_id: sessionId, data: { method: 'registration' } })
  })

  it('records session.created (method password) for a login, and nothing for a failed one', async () => {
    const user = await registerUser()
    const before = (await eventsOf(user.identityId)).length
    expect((await api.login({ login: user.login, password: 'wrong-password-123' })).status).toBe(401)
    expect(await eventsOf(user.identityId)).toHaveLength(before)
    const res = await send(loginHandler, '/auth/login', { login: user.login, password: user.password })
    expect(res.status).toBe(200)
    const rows = (await eventsOf(user.identityId)).slice(before)
    expect(rows).toEqual([
      expect.objectContaining({
        type: 'session.created',
        session_id: await sessionOf(res.body.data.access_token),
        request_id: res.requestId,
        data: { method: 'password' },
      }),
    ])
  })

  it.each([
    ['local', 'logout', 1],
    ['global', 'logout_all', 3],
    ['others', 'logout_others', 2],
  ] as const)('records session.ended (reason %s → %s) for each session a logout ends', async (scope, reason, ended) => {
    const user = await registerUser()
    await api.login({ login: user.login, password: user.password })
    await api.login({ login: user.login, password: user.password })
    const before = (await eventsOf(user.identityId)).length
    const res = await send(logoutHandler, '/auth/logout', { scope }, { token: user.tokens.access_token })
    expect(res.body.data.sessions_ended).toBe(ended)
    const rows = (await eventsOf(user.identityId)).slice(before)
    expect(rows).toHaveLength(ended)
    for (const row of rows) expect(row).toMatchObject({ type: 'session.ended', data: { reason }, request_id: res.requestId })
    const current = await sessionOf(user.tokens.access_token)
    expect(rows.some((row) => row.session_id === current)).toBe(scope !== 'others')
  })

  it('records session.ended (ended_by_user) for DELETE /auth/sessions/{id}, and no row when there was no such session', async () => {
    const user = await registerUser()
    const other = await api.login({ login: user.login, password: user.password })
    const otherSession = await sessionOf(other.body.data.access_token)
    expect((await api.endSession(user.tokens.access_token, otherSession)).status).toBe(200)
    expect((await api.endSession(user.tokens.access_token, otherSession)).status).toBe(404)
    const ended = (await eventsOf(user.identityId)).filter((row) => row.type === 'session.ended')
    expect(ended).toEqual([expect.objectContaining({ session_id: otherSession, data: { reason: 'ended_by_user' } })])
  })

  it('records password.changed and a session.ended (password_changed) for each other session, in the same transaction', async () => {
    const user = await registerUser()
    const other = await api.login({ login: user.login, password: user.password })
    const before = (await eventsOf(user.identityId)).length
    const res = await send(
      changePasswordHandler,
      '/auth/change-password',
      { current_password: user.password, new_password: 'a-brand-new-passphrase-9' },
      { token: user.tokens.access_token },
    )
    expect(res.status).toBe(200)
    const rows = byType((await eventsOf(user.identityId)).slice(before))
    expect(rows).toEqual([
      expect.objectContaining({
        type: 'password.changed',
        session_id: await sessionOf(user.tokens.access_token),
        data: { other_sessions_ended: 1 },
        request_id: res.requestId,
      }),
      expect.objectContaining({
        type: 'session.ended',
        session_id: await sessionOf(other.body.data.access_token),
        data: { reason: 'password_changed' },
        request_id: res.requestId,
      }),
    ])
  })

  it('records refresh.reuse_detected and session.ended (refresh_token_reused) when a used refresh token comes back', async () => {
    const user = await registerUser()
    const first = await api.refresh({ refresh_token: user.tokens.refresh_token })
    expect((await api.refresh({ refresh_token: first.body.data.refresh_token })).status).toBe(200)
    const before = (await eventsOf(user.identityId)).length
    expect((await api.refresh({ refresh_token: user.tokens.refresh_token })).body.reason).toBe('refresh_token_reused')
    const session = await sessionOf(user.tokens.access_token)
    expect(byType((await eventsOf(user.identityId)).slice(before))).toEqual([
      expect.objectContaining({ type: 'refresh.reuse_detected', outcome: 'failure', session_id: session }),
      expect.objectContaining({ type: 'session.ended', session_id: session, data: { reason: 'refresh_token_reused' } }),
    ])
    // Refreshes that change nothing but the token (the two above) are log lines, not rows.
    expect(typesOf(await eventsOf(user.identityId)).filter((type) => type.startsWith('refresh.'))).toEqual(['refresh.reuse_detected'])
  })

  it('records session.ended (session_limit) for the oldest session a new login pushes out', async () => {
    const capped = createApp(loadConfig({ ...process.env, MAX_SESSIONS_PER_IDENTITY: '2' }))
    try {
      const user = await registerUser()
      const rules = rulesOf(capped)
      const client = { requestId: randomUUID(), userAgent: 'capped', sourceIp: '198.51.100.4' }
      await rules.login(loginInput(user.login, user.password), client)
      const before = (await eventsOf(user.identityId)).length
      await rules.login(loginInput(user.login, user.password), client)
      const rows = (await eventsOf(user.identityId)).slice(before)
      expect(rows.map((row) => [row.type, row.data['reason'] ?? row.data['method']]).sort()).toEqual([
        ['session.created', 'password'],
        ['session.ended', 'session_limit'],
      ])
      expect(rows.find((row) => row.type === 'session.ended')?.session_id).toBe(await sessionOf(user.tokens.access_token))
    } finally {
      await capped.sql.end()
    }
  })

  it('records session.ended (password_guessing) when repeated wrong current passwords end the session', async () => {
    const user = await registerUser()
    const rules = rulesOf(getApp())
    const caller = { identityId: user.identityId, sessionId: await sessionOf(user.tokens.access_token) }
    const client = { requestId: randomUUID(), userAgent: 'guesser', sourceIp: '198.51.100.5' }
    let reason: string | undefined
    for (let i = 0; i < getApp().config.throttle.account.free && reason !== 'session_ended'; i++) {
      reason = await rules
        .changePassword(caller, { current_password: `not-it-${i}-at-all`, new_password: 'a-brand-new-passphrase-9' }, client)
        .then(
          () => 'changed',
          (error: { reason?: string }) => error.reason,
        )
    }
    expect(reason).toBe('session_ended')
    expect((await eventsOf(user.identityId)).filter((row) => row.type === 'session.ended')).toEqual([
      expect.objectContaining({ session_id: caller.sessionId, data: { reason: 'password_guessing' }, user_agent: 'guesser' }),
    ])
  })

  it('records session.ended (expired) by the system when maintenance deletes a session that expired without ending', async () => {
    const user = await registerUser()
    const { config } = getApp()
    const expired = randomUUID()
    await sql()`
      insert into attune.session (id, identity_id, refresh_jti, refresh_iat, created, expires)
      values (${expired}, ${user.identityId}, ${randomUUID()}, 0, now() - make_interval(days => ${config.sessions.retentionDays + 40}),
              now() - make_interval(days => ${config.sessions.retentionDays + 1}))`
    const context = lambdaContext()
    await maintenance({}, context)
    const [row] = (await eventsOf(user.identityId)).filter((r) => r.session_id === expired)
    expect(row).toMatchObject({
      type: 'session.ended',
      actor_type: 'system',
      actor_id: null,
      source_ip: null,
      data: { reason: 'expired', expired_at: expect.any(String) },
    })
    // A session ended earlier had its session.ended then: deleting it later records nothing more.
    expect((await eventsOf(user.identityId)).filter((r) => r.data['reason'] === 'expired')).toHaveLength(1)
  })

  describe('login throttling', () => {
    let throttled: App
    beforeAll(() => {
      throttled = createApp(loadConfig({ ...process.env, LOGIN_FREE_ATTEMPTS: '2', LOGIN_MAX_DELAY_SECONDS: '2' }))
    })
    afterAll(() => throttled.sql.end())

    it('records login.throttled when the free attempts are used up and account.locked when the wait reaches its maximum, once each', async () => {
      const user = await registerUser()
      const rules = rulesOf(throttled)
      const client = { requestId: randomUUID(), userAgent: 'stuffer', sourceIp: '198.51.100.6' }
      const lockedAt = maximumWaitAt(throttled.config.throttle.account)
      expect(lockedAt).toBe(3)
      for (let attempt = 1; attempt <= lockedAt + 1; ) {
        const outcome = await rules
          .login(loginInput(user.login, `wrong-guess-${attempt}`), client)
          .catch((error: { reason: string }) => error)
        if ((outcome as { reason?: string }).reason === 'too_many_attempts') {
          await new Promise((resolve) => setTimeout(resolve, 300))
          continue
        }
        attempt++
      }
      const rows = (await eventsOf(user.identityId)).filter((row) => row.type.startsWith('login.') || row.type.startsWith('account.'))
      expect(rows).toEqual([
        expect.objectContaining({ type: 'login.throttled', actor_type: 'system', user_agent: 'stuffer', data: { failures: 2 } }),
        expect.objectContaining({ type: 'account.locked', actor_type: 'system', user_agent: 'stuffer', data: { failures: 3 } }),
      ])
    }, 20_000)

    it('records nothing for a login that does not exist, however often it fails', async () => {
      const rules = rulesOf(throttled)
      const marker = `ghost-${randomUUID()}`
      for (let i = 0; i < 3; i++) {
        await rules
          .login(loginInput(uniqueLogin('ghost'), 'wrong-guess'), { requestId: null, userAgent: marker, sourceIp: null })
          .catch(() => {})
      }
      expect(await sql()`select 1 from attune.audit_event where user_agent = ${marker}`).toHaveLength(0)
    })
  })
})

describe('audit log: never a change without its row, nor a row without its change', () => {
  const REFUSED_AGENT = `audit-refused-${randomUUID()}`

  beforeAll(async () => {
    // Refuses only the rows of requests sent with REFUSED_AGENT: the other test files writing rows are not affected.
    await sql().unsafe(`
      create or replace function attune.test_refuse_audit_row() returns trigger language plpgsql as $$
      begin
        if new.user_agent = '${REFUSED_AGENT}' then raise exception 'audit row refused by the test'; end if;
        return new;
      end $$`)
    await sql()`create trigger test_refuse_audit_row before insert on attune.audit_event for each row execute function attune.test_refuse_audit_row()`
  })
  afterAll(async () => {
    await sql()`drop trigger if exists test_refuse_audit_row on attune.audit_event`
    await sql()`drop function if exists attune.test_refuse_audit_row()`
  })

  it('registers no identity and opens no session when its rows cannot be written', async () => {
    const login = uniqueLogin()
    const res = await send(registerHandler, '/auth/register', { login, password: 'securepassword123' }, { userAgent: REFUSED_AGENT })
    expect(res.status).toBe(500)
    expect(await sql()`select 1 from attune.identity where login = ${login}`).toHaveLength(0)
  })

  it('opens no session for a login whose row cannot be written', async () => {
    const user = await registerUser()
    const before = await activeSessions(user.identityId)
    const res = await send(loginHandler, '/auth/login', { login: user.login, password: user.password }, { userAgent: REFUSED_AGENT })
    expect(res.status).toBe(500)
    expect(await activeSessions(user.identityId)).toEqual(before)
  })

  it('ends no session on a logout whose row cannot be written: its tokens keep working', async () => {
    const user = await registerUser()
    const res = await send(
      logoutHandler,
      '/auth/logout',
      { scope: 'global' },
      { token: user.tokens.access_token, userAgent: REFUSED_AGENT },
    )
    expect(res.status).toBe(500)
    expect(await activeSessions(user.identityId)).toEqual([await sessionOf(user.tokens.access_token)])
    expect((await api.me(user.tokens.access_token)).status).toBe(200)
  })

  it('keeps the session alive when the replay of a refresh token cannot write its rows (the replay is still refused)', async () => {
    const user = await registerUser()
    // Two rotations: the first token is then a replay, not a retry within the grace window.
    const second = await api.refresh({ refresh_token: user.tokens.refresh_token })
    const third = await api.refresh({ refresh_token: second.body.data.refresh_token })
    const res = await send(refreshHandler, '/auth/refresh', { refresh_token: user.tokens.refresh_token }, { userAgent: REFUSED_AGENT })
    expect(res.status).toBe(500)
    expect(await activeSessions(user.identityId)).toEqual([await sessionOf(user.tokens.access_token)])
    expect((await api.refresh({ refresh_token: third.body.data.refresh_token })).status).toBe(200)
  })

  it('keeps the session when DELETE /auth/sessions/{id} cannot write its row', async () => {
    const user = await registerUser()
    const other = await api.login({ login: user.login, password: user.password })
    const otherSession = await sessionOf(other.body.data.access_token)
    const res = await send(endSessionHandler, `/auth/sessions/${otherSession}`, undefined, {
      method: 'DELETE',
      token: user.tokens.access_token,
      userAgent: REFUSED_AGENT,
      pathParameters: { id: otherSession },
    })
    expect(res.status).toBe(500)
    expect((await api.me(other.body.data.access_token)).status).toBe(200)
  })

  it('counts no failure against the account when the attempt that uses up its free attempts cannot write login.throttled', async () => {
    const throttled = createApp(loadConfig({ ...process.env, LOGIN_FREE_ATTEMPTS: '2' }))
    try {
      const user = await registerUser()
      const rules = rulesOf(throttled)
      const failures = async () => {
        const key = throttled.throttleKeys.login(loginInput(user.login, 'x').login.key ?? '')
        const [row] = await sql()<{ failures: number }[]>`select failures from attune.throttle where key = ${key}`
        return row?.failures ?? 0
      }
      await rules.login(loginInput(user.login, 'wrong-guess-1'), { requestId: null, userAgent: 'ok', sourceIp: null }).catch(() => {})
      expect(await failures()).toBe(1)
      const refused = await rules
        .login(loginInput(user.login, 'wrong-guess-2'), { requestId: null, userAgent: REFUSED_AGENT, sourceIp: null })
        .catch((error: Error) => error)
      expect(refused).toMatchObject({ message: expect.stringContaining('audit row refused by the test') })
      expect(await failures()).toBe(1)
      expect((await eventsOf(user.identityId)).filter((row) => row.type === 'login.throttled')).toEqual([])
    } finally {
      await throttled.sql.end()
    }
  })

  it('keeps the old password and every session when the password change cannot write its rows', async () => {
    const user = await registerUser()
    const other = await api.login({ login: user.login, password: user.password })
    const res = await send(
      changePasswordHandler,
      '/auth/change-password',
      { current_password: user.password, new_password: 'a-brand-new-passphrase-9' },
      { token: user.tokens.access_token, userAgent: REFUSED_AGENT },
    )
    expect(res.status).toBe(500)
    expect(await activeSessions(user.identityId)).toHaveLength(2)
    expect((await api.me(other.body.data.access_token)).status).toBe(200)
    expect((await api.login({ login: user.login, password: user.password })).status).toBe(200)
    expect((await api.login({ login: user.login, password: 'a-brand-new-passphrase-9' })).status).toBe(401)
  })

  it('writes no row for a change that fails: a taken login, a wrong current password, a stale password change', async () => {
    const user = await registerUser()
    const before = await eventsOf(user.identityId)
    const marker = `failing-${randomUUID()}`
    expect(
      (await send(registerHandler, '/auth/register', { login: user.login, password: 'securepassword123' }, { userAgent: marker })).status,
    ).toBe(409)
    expect(
      (
        await send(
          changePasswordHandler,
          '/auth/change-password',
          { current_password: 'not-the-password', new_password: 'a-brand-new-passphrase-9' },
          { token: user.tokens.access_token, userAgent: marker },
        )
      ).status,
    ).toBe(401)
    // The stale change: the version it verified is no longer current, so the transaction writes nothing.
    const stale = await getApp().credentials.changePassword({
      identityId: user.identityId,
      verifiedVersion: -1,
      passwordHash: 'not-a-real-hash',
      sessionId: await sessionOf(user.tokens.access_token),
      next: { refreshTokenId: randomUUID(), refreshIssuedAt: 0 },
      origin: { requestId: null, userAgent: marker, sourceIp: null },
    })
    expect(stale).toEqual({ outcome: 'stale' })
    expect(await eventsOf(user.identityId)).toEqual(before)
    expect(await sql()`select 1 from attune.audit_event where user_agent = ${marker}`).toHaveLength(0)
  })
})

describe('audit log: append-only', () => {
  let user: RegisteredUser
  beforeAll(async () => {
    user = await registerUser()
  })

  /** Runs `statement` as the application's database role (attune_app), in a transaction rolled back afterwards. */
  async function asApplication(statement: (tx: postgres.TransactionSql) => Promise<unknown>): Promise<unknown> {
    const rollback = new Error('rollback')
    try {
      await sql().begin(async (tx) => {
        await tx`set local role attune_app`
        await statement(tx)
        throw rollback
      })
    } catch (error) {
      if (error === rollback) return undefined
      return error
    }
    return undefined
  }

  it('lets the application role insert and read events, and refuses it update, delete, truncate and dropping partitions', async () => {
    expect(await asApplication((tx) => tx`select count(*) from attune.audit_event where identity_id = ${user.identityId}`)).toBeUndefined()
    expect(
      await asApplication(
        (tx) =>
          tx`insert into attune.audit_event (type, outcome, actor_type, identity_id) values ('test.event', 'success', 'system', ${user.identityId})`,
      ),
    ).toBeUndefined()
    for (const statement of [
      (tx: postgres.TransactionSql) => tx`update attune.audit_event set type = 'forged.event' where identity_id = ${user.identityId}`,
      (tx: postgres.TransactionSql) => tx`delete from attune.audit_event where identity_id = ${user.identityId}`,
      (tx: postgres.TransactionSql) => tx`truncate attune.audit_event`,
      (tx: postgres.TransactionSql) => tx`select attune.audit_drop_partitions(0)`,
    ]) {
      expect(await asApplication(statement)).toMatchObject({ code: '42501' })
    }
    expect(typesOf(byType(await eventsOf(user.identityId)))).toEqual(['identity.registered', 'session.created'])
  })

  it('refuses update, delete and truncate to the owner too, on the table and on each partition', async () => {
    const [partition] = await sql()<{ name: string }[]>`select to_char(now() at time zone 'UTC', '"audit_event_"YYYY_MM') as name`
    for (const table of ['audit_event', partition?.name ?? '']) {
      const target = sql()(`attune.${table}`)
      for (const statement of [
        sql()`update ${target} set type = 'forged.event' where identity_id = ${user.identityId}`,
        sql()`delete from ${target} where identity_id = ${user.identityId}`,
        sql()`truncate ${target}`,
      ]) {
        await expect(statement).rejects.toMatchObject({ code: '42501', message: expect.stringContaining('append-only') })
      }
    }
    expect(typesOf(byType(await eventsOf(user.identityId)))).toEqual(['identity.registered', 'session.created'])
  })
})

describe('audit log: monthly partitions', () => {
  it('keeps partitions ready for this month and the next three', async () => {
    await maintenance({}, lambdaContext())
    const rows = await sql()<{ name: string }[]>`
      select to_char(date_trunc('month', now() at time zone 'UTC') + make_interval(months => m), '"audit_event_"YYYY_MM') as name
      from generate_series(0, 3) m
      where to_regclass('attune.' || to_char(date_trunc('month', now() at time zone 'UTC') + make_interval(months => m), '"audit_event_"YYYY_MM')) is null`
    expect(rows).toEqual([])
  })

  it('drops a whole month once every event in it is older than AUDIT_RETENTION_DAYS, and keeps recent months', async () => {
    await sql()`create table if not exists attune.audit_event_2001_01 partition of attune.audit_event for values from ('2001-01-01 00:00:00+00') to ('2001-02-01 00:00:00+00')`
    await sql()`insert into attune.audit_event (occurred_at, type, outcome, actor_type) values ('2001-01-15', 'test.event', 'success', 'system')`
    await maintenance({}, lambdaContext())
    expect(await sql()`select to_regclass('attune.audit_event_2001_01') as name`).toEqual([{ name: null }])
    const [current] = await sql()`select to_regclass(to_char(now() at time zone 'UTC', '"attune.audit_event_"YYYY_MM')) is not null as kept`
    expect(current).toEqual({ kept: true })
  })
})
