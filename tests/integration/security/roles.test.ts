/**
 * Roles and permissions, live: what the authorizer tells the APIs behind it follows every grant and
 * revocation on the very next request, with the same access token (no refresh), because its cache is keyed
 * by the identity's authz_version, which the database moves with every change. Changes come from
 * `npm run admin` (runAdmin here, and once as a child process) and are audited.
 */

import { execFile } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runAdmin } from '../../../infra/admin.js'
import { authorize } from '../../../infra/local/offline-authorizer.js'
import { getApp } from '../../../lib/app.js'
import { createDecisionCaches } from '../../../lib/authorizer/caches.js'
import { decide } from '../../../lib/authorizer/decision.js'
import { bootstrapAdminKey, migrate } from '../../../lib/db/migrate.js'
import type { RegisteredUser } from '../../support/api.js'
import { api, registerUser } from '../../support/api.js'
import type { CountedApp } from '../../support/counted-app.js'
import { startCountedApp } from '../../support/counted-app.js'
import { requestAuthorizerEvent, uniqueLogin } from '../../support/events.js'

const admin = (...argv: string[]) => runAdmin(argv, getApp().sql)

/** What the authorizer puts in the context for this token (our routes and every API behind it read it). */
async function contextOf(accessToken: string): Promise<{ roles: string; permissions: string }> {
  const outcome = await authorize({
    method: 'GET',
    path: '/auth/me',
    resource: '/auth/me',
    headers: { Authorization: `Bearer ${accessToken}` },
    multiValueHeaders: {},
    query: {},
    params: {},
  })
  if (!outcome.allow) throw new Error(`refused: ${outcome.body}`)
  return { roles: outcome.context['roles'] ?? '', permissions: outcome.context['permissions'] ?? '' }
}

/** A role of this test run's own, with one permission of its own. */
async function freshRole(): Promise<{ role: string; permission: string }> {
  const suffix = randomUUID().slice(0, 8)
  const permission = `orders${suffix}:read`
  const role = `clerk-${suffix}`
  expect(await admin('create-permission', permission, 'Read orders')).toEqual([`created ${permission}`])
  expect(await admin('create-role', role, permission)).toEqual([`created ${role}`])
  return { role, permission }
}

describe('roles and permissions, as the authorizer sees them', () => {
  let user: RegisteredUser

  beforeAll(async () => {
    user = await registerUser()
    // Warm: the authorizer's container has this identity's (empty) grants cached before anything changes.
    expect(await contextOf(user.tokens.access_token)).toEqual({ roles: '', permissions: '' })
  })

  it('allows a grant on the next request and takes it away on the next after revocation, with the same token', async () => {
    const { role, permission } = await freshRole()
    expect(await admin('grant-role', user.login, role)).toEqual([`granted ${role} to ${user.login}`])
    expect(await contextOf(user.tokens.access_token)).toEqual({ roles: role, permissions: permission })
    expect((await api.me(user.tokens.access_token)).body.data).toMatchObject({ roles: [role], permissions: [permission] })

    expect(await admin('revoke-role', user.login, role)).toEqual([`revoked ${role} from ${user.login}`])
    expect(await contextOf(user.tokens.access_token)).toEqual({ roles: '', permissions: '' })
    expect((await api.me(user.tokens.access_token)).body.data).toMatchObject({ roles: [], permissions: [] })
  })

  it("reaches every holder at once when a role's permissions change", async () => {
    const { role, permission } = await freshRole()
    const other = await registerUser()
    await admin('grant-role', user.login, role)
    await admin('grant-role', other.login, role)
    expect((await contextOf(other.tokens.access_token)).permissions).toBe(permission)
    const extra = `reports${randomUUID().slice(0, 8)}:read`
    await admin('create-permission', extra)
    await getApp().sql`insert into attune.role_permission (role, permission) values (${role}, ${extra})`
    for (const token of [user.tokens.access_token, other.tokens.access_token]) {
      expect((await contextOf(token)).permissions.split(' ').sort()).toEqual([permission, extra].sort())
    }
    await getApp().sql`delete from attune.role_permission where role = ${role} and permission = ${permission}`
    expect((await contextOf(other.tokens.access_token)).permissions).toBe(extra)
    await admin('revoke-role', user.login, role)
  })

  it('ends a grant at its expiry, though nothing else changed', async () => {
    const { role, permission } = await freshRole()
    const until = new Date(Date.now() + 1500)
    await admin('grant-role', user.login, role, '--until', until.toISOString())
    expect(await contextOf(user.tokens.access_token)).toEqual({ roles: role, permissions: permission })
    await new Promise((resolve) => setTimeout(resolve, until.getTime() - Date.now() + 100))
    expect(await contextOf(user.tokens.access_token)).toEqual({ roles: '', permissions: '' })
  })

  it('records every change as an audit event with the administrator as actor', async () => {
    const { role } = await freshRole()
    await admin('grant-role', user.login, role)
    await admin('revoke-role', user.login, role)
    const rows = await getApp().sql`
      select type, actor_type, actor_id, data->>'role' as role from attune.audit_event
      where identity_id = ${user.identityId} and data->>'role' = ${role} order by id`
    expect(rows).toEqual([
      { type: 'role.granted', actor_type: 'admin', actor_id: 'cli', role },
      { type: 'role.revoked', actor_type: 'admin', actor_id: 'cli', role },
    ])
    const [created] = await getApp()
      .sql`select actor_type, actor_id from attune.audit_event where type = 'role.created' and data->>'role' = ${role}`
    expect(created).toEqual({ actor_type: 'admin', actor_id: 'cli' })
  })

  it('refuses unknown roles, logins and malformed names', async () => {
    await expect(admin('grant-role', user.login, 'no-such-role')).rejects.toThrow('no role "no-such-role"')
    await expect(admin('grant-role', uniqueLogin('nobody'), 'admin')).rejects.toThrow('no identity has the login')
    await expect(admin('create-permission', 'Orders Read')).rejects.toThrow('a permission is resource:action')
    await expect(admin('create-role', 'Clerk!')).rejects.toThrow('a role name is')
    await expect(admin('frobnicate')).rejects.toThrow('usage: npm run admin')
  })
})

describe("an access token's scope", () => {
  /** The claims of a compact JWS (its signature was checked where it was issued). */
  const claimsOf = (token: string) => JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString('utf8'))

  it('matches the grants at issue time: login, refresh and password change carry them as scope and authz_ver', async () => {
    const user = await registerUser()
    expect(claimsOf(user.tokens.access_token)).toMatchObject({ scope: '', authz_ver: 0 })
    const { role, permission } = await freshRole()
    await admin('grant-role', user.login, role)
    const [row] = await getApp().sql`select authz_version from attune.identity where id = ${user.identityId}`
    const version = Number(row?.['authz_version'])
    const login = await api.login({ login: user.login, password: user.password })
    expect(claimsOf(login.body.data.access_token)).toMatchObject({ scope: permission, authz_ver: version })
    // The refresh token carries ids only.
    expect(claimsOf(login.body.data.refresh_token)).not.toHaveProperty('scope')

    await admin('revoke-role', user.login, role)
    const refreshed = await api.refresh({ refresh_token: login.body.data.refresh_token })
    expect(claimsOf(refreshed.body.data.access_token)).toMatchObject({ scope: '', authz_ver: version + 1 })

    await admin('grant-role', user.login, role)
    const changed = await api.changePassword(refreshed.body.data.access_token, {
      current_password: user.password,
      new_password: 'a-brand-new-passphrase-9',
    })
    expect(claimsOf(changed.body.data.access_token)).toMatchObject({ scope: permission, authz_ver: version + 2 })
  })
})

describe('the cost of permissions in the authorizer', () => {
  let counted: CountedApp

  beforeAll(async () => {
    counted = await startCountedApp()
  })
  afterAll(() => counted?.close())

  it('is no query while the grants are unchanged, and one after a change', async () => {
    const user = await registerUser()
    const { role } = await freshRole()
    const { app, proxy } = counted
    const deps = { tokens: app.tokens, sessions: app.sessions, ...createDecisionCaches(app.sql, app.config) }
    const event = requestAuthorizerEvent({ Authorization: `Bearer ${user.tokens.access_token}` })
    const statementsOf = async () => {
      proxy.reset()
      expect(await decide(event, deps)).toMatchObject({ effect: 'Allow' })
      return proxy.counts().statements
    }
    await statementsOf() // prepares the statements and fills the cache
    expect(await statementsOf()).toBe(1) // the session lookup alone
    await admin('grant-role', user.login, role)
    expect(await statementsOf()).toBe(2) // the lookup saw a new authz_version: the grants are read again
    expect(await statementsOf()).toBe(1)
  })
})

describe('BOOTSTRAP_ADMIN_LOGIN', () => {
  it('grants admin to that login after the migrations, once, and says when the login does not exist', async () => {
    const user = await registerUser()
    const outcomes: string[] = []
    const onBootstrap = (outcome: string) => void outcomes.push(outcome)
    const url = process.env['DATABASE_URL'] as string
    await migrate(url, { bootstrapAdminKey: bootstrapAdminKey(user.login.toUpperCase()), onBootstrap })
    await migrate(url, { bootstrapAdminKey: bootstrapAdminKey(user.login), onBootstrap })
    await migrate(url, { bootstrapAdminKey: bootstrapAdminKey(uniqueLogin('nobody')), onBootstrap })
    expect(outcomes).toEqual(['granted', 'held', 'no_such_login'])
    expect((await api.me(user.tokens.access_token)).body.data).toMatchObject({
      roles: ['admin'],
      permissions: ['attune:admin', 'service_accounts:manage'],
    })
  })
})

describe('npm run admin', () => {
  it('runs as a command against DATABASE_URL and exits 1 with the usage on a bad command', async () => {
    const run = promisify(execFile)
    const env = { PATH: process.env['PATH'], DATABASE_URL: process.env['DATABASE_URL'] }
    const { stdout } = await run('node', ['--import', 'tsx', 'infra/admin.ts', 'list'], { env })
    expect(stdout).toContain('admin: attune:admin')
    const failed = await run('node', ['--import', 'tsx', 'infra/admin.ts', 'frobnicate'], { env }).catch(
      (error: { code: number; stderr: string }) => error,
    )
    expect(failed).toMatchObject({ code: 1, stderr: expect.stringContaining('usage: npm run admin') })
  })
})
