/**
 * Service accounts and their API keys (README "Service accounts"), made with `npm run admin` and checked by the
 * real authorizer: a key works on the next request after it is made and is refused on the next after its
 * revocation or expiry; a mistyped key costs no query; what a key may do is its scopes that its account still
 * holds; a rotated key overlaps its successor; keys never reach the logs or the audit log.
 */
import { randomUUID } from 'node:crypto'
import type { APIGatewayAuthorizerResult } from 'aws-lambda'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { handler } from '../../../functions/authorizer.js'
import { runAdmin } from '../../../infra/admin.js'
import { getApp } from '../../../lib/app.js'
import { createDecisionCaches } from '../../../lib/authorizer/caches.js'
import { decide } from '../../../lib/authorizer/decision.js'
import { setLogLevel } from '../../../lib/log.js'
import { api } from '../../support/api.js'
import { captureLogs } from '../../support/capture-logs.js'
import type { CountedApp } from '../../support/counted-app.js'
import { startCountedApp } from '../../support/counted-app.js'
import { requestAuthorizerEvent } from '../../support/events.js'

const admin = (...argv: string[]) => runAdmin(argv, getApp().sql)
const authorize = async (key: string) =>
  (await handler(requestAuthorizerEvent({ Authorization: `Bearer ${key}` }))) as APIGatewayAuthorizerResult
const allowed = (result: APIGatewayAuthorizerResult) => result.policyDocument.Statement[0]?.Effect === 'Allow'

/** A service account of this test's own, holding a role with `orders<id>:read` and `orders<id>:write`. */
async function serviceAccount() {
  const id = randomUUID().slice(0, 8)
  const name = `sync-${id}`
  const [read, write] = [`orders${id}:read`, `orders${id}:write`]
  const role = `syncer-${id}`
  await admin('create-permission', read)
  await admin('create-permission', write)
  await admin('create-role', role, read, write)
  expect((await admin('create-service-account', name))[0]).toMatch(/^created service account/)
  await admin('grant-role', `service:${name}`, role)
  return { name, read, write, role }
}

/** Makes a key with `admin create-key` and answers it (the last line the command prints) and its id. */
async function createKey(account: string, ...options: string[]): Promise<{ key: string; keyId: string }> {
  const lines = await admin('create-key', account, 'nightly sync', ...options)
  const key = lines.at(-1) ?? ''
  const keyId = /^key ([0-9a-f-]{36}) /.exec(lines[0] ?? '')?.[1] ?? ''
  return { key, keyId }
}

describe('API keys in the authorizer', () => {
  let account: Awaited<ReturnType<typeof serviceAccount>>

  beforeAll(async () => {
    account = await serviceAccount()
  })

  it('allows a key on the next request after it is made, as a service principal with its scopes', async () => {
    const { key, keyId } = await createKey(account.name, '--scopes', account.read)
    expect(key).toMatch(/^atk_test_[0-9A-Za-z]{49}$/)
    const result = await authorize(key)
    expect(allowed(result)).toBe(true)
    expect(result.context).toMatchObject({
      principalType: 'service',
      keyId,
      sessionId: keyId,
      login: `service:${account.name}`,
      permissions: account.read,
      roles: account.role,
    })
  })

  it('refuses a key on the next request after its revocation, and after its expiry', async () => {
    const revoked = await createKey(account.name, '--scopes', account.read)
    expect(allowed(await authorize(revoked.key))).toBe(true)
    expect(await admin('revoke-key', account.name, revoked.keyId)).toEqual([`revoked ${revoked.keyId}`])
    const refused = await authorize(revoked.key)
    expect(refused.context).toMatchObject({ reason: 'token_invalid' })

    const expiring = await createKey(account.name, '--scopes', account.read)
    await getApp().sql`update attune.api_key set expires_at = now() - interval '1 second' where id = ${expiring.keyId}`
    expect((await authorize(expiring.key)).context).toMatchObject({ reason: 'token_invalid' })
  })

  it('keeps a key’s scopes within its account’s permissions: at creation, and at use (the intersection)', async () => {
    await expect(admin('create-key', account.name, 'too wide', '--scopes', `${account.read},nothing:else`)).rejects.toThrow(
      /does not hold nothing:else/,
    )
    const { key } = await createKey(account.name, '--scopes', `${account.read},${account.write}`)
    expect((await authorize(key)).context).toMatchObject({ permissions: [account.read, account.write].sort().join(' ') })
    // The account loses the role: its key keeps nothing, on the very next request.
    await admin('revoke-role', `service:${account.name}`, account.role)
    expect((await authorize(key)).context).toMatchObject({ permissions: '' })
    await admin('grant-role', `service:${account.name}`, account.role)
    expect((await authorize(key)).context).toMatchObject({ permissions: [account.read, account.write].sort().join(' ') })
  })

  it('lets a rotated key work beside its successor for the overlap, and then only the successor', async () => {
    const old = await createKey(account.name, '--scopes', account.read)
    const lines = await admin('rotate-key', account.name, old.keyId)
    const successor = lines.at(-1) ?? ''
    expect(lines[0]).toMatch(/replaces .* which works 24 more hours/)
    expect(allowed(await authorize(old.key))).toBe(true)
    expect(allowed(await authorize(successor))).toBe(true)
    const [row] = await getApp().sql<{ hours: number }[]>`
      select (extract(epoch from expires_at - now()) / 3600)::float8 as hours from attune.api_key where id = ${old.keyId}`
    expect(row?.hours).toBeGreaterThan(23.9)
    expect(row?.hours).toBeLessThanOrEqual(24)
    await getApp().sql`update attune.api_key set expires_at = now() - interval '1 second' where id = ${old.keyId}`
    expect(allowed(await authorize(old.key))).toBe(false)
    expect(allowed(await authorize(successor))).toBe(true)
    await expect(admin('rotate-key', account.name, old.keyId)).rejects.toThrow(/no live, unrotated key/)
  })

  it('lists keys by their display form, never the key', async () => {
    const { key, keyId } = await createKey(account.name, '--scopes', account.read)
    const listed = (await admin('list-keys', account.name)).find((line) => line.startsWith(keyId)) ?? ''
    expect(listed).toContain(`${key.slice(0, 13)}…${key.slice(-4)}`)
    expect(listed).not.toContain(key.slice(13, -4))
  })

  it('never lets a service account sign in with a password', async () => {
    const res = await api.login({ login: `service:${account.name}`, password: 'anything at all 123' })
    expect({ status: res.status, reason: res.body.reason }).toEqual({ status: 401, reason: 'invalid_credentials' })
  })

  it('keeps keys out of the logs and the audit log', async () => {
    const logs = captureLogs()
    setLogLevel('debug')
    let key = ''
    try {
      ;({ key } = await createKey(account.name, '--scopes', account.read))
      await authorize(key)
      await authorize(`${key.slice(0, -1)}x`)
    } finally {
      setLogLevel('silent')
      logs.stop()
    }
    expect(logs.lines.some((line) => line.text.includes(key.slice(9, -6)))).toBe(false)
    const [found] = await getApp().sql<{ n: number }[]>`
      select count(*)::int as n from attune.audit_event where data::text like ${`%${key.slice(9, -6)}%`}`
    expect(found).toEqual({ n: 0 })
  })
})

describe('the cost of an API key in the authorizer', () => {
  let counted: CountedApp

  beforeAll(async () => {
    counted = await startCountedApp()
  })
  afterAll(() => counted?.close())

  it('refuses a key with a flipped character, or of the other environment, with no query; a good one costs one statement', async () => {
    const account = await serviceAccount()
    const { key } = await createKey(account.name, '--scopes', account.read)
    const { app, proxy } = counted
    const deps = { tokens: app.tokens, sessions: app.sessions, ...createDecisionCaches(app.sql, app.config) }
    const statementsOf = async (text: string, environment: 'live' | 'test' = 'test') => {
      proxy.reset()
      const decision = await decide(requestAuthorizerEvent({ Authorization: `Bearer ${text}` }), {
        ...deps,
        apiKeyEnvironment: environment,
      })
      return { effect: decision.effect, statements: proxy.counts().statements }
    }
    await statementsOf(key) // prepares the statements and fills the caches
    expect(await statementsOf(key)).toEqual({ effect: 'Allow', statements: 1 })
    const flipped = `${key.slice(0, 20)}${key[20] === 'a' ? 'b' : 'a'}${key.slice(21)}`
    expect(await statementsOf(flipped)).toEqual({ effect: 'Deny', statements: 0 })
    expect(await statementsOf(key, 'live')).toEqual({ effect: 'Deny', statements: 0 })
    expect(await statementsOf('atk_test_short')).toEqual({ effect: 'Deny', statements: 0 })
  })
})
