/**
 * The admin routes, through our authorizer as API Gateway runs them: only an identity holding attune:admin
 * now gets through; changes reach the identities they concern on their next request and are audited with
 * the administrator's identity as actor.
 */
import { randomUUID } from 'node:crypto'
import { beforeAll, describe, expect, it } from 'vitest'
import { runAdmin } from '../../../infra/admin.js'
import { getApp } from '../../../lib/app.js'
import type { RegisteredUser } from '../../support/api.js'
import { api, registerUser, verifiedUser } from '../../support/api.js'
import { uniqueLogin } from '../../support/events.js'

let admin: RegisteredUser
let user: RegisteredUser
const suffix = randomUUID().slice(0, 8)
const permission = `invoices${suffix}:read`
const role = `accountant-${suffix}`

beforeAll(async () => {
  admin = await registerUser()
  user = await registerUser()
  await runAdmin(['grant-role', admin.login, 'admin'], getApp().sql)
})

describe('the admin routes', () => {
  it('refuse anyone without attune:admin with 403 FORBIDDEN, and a missing token with 401', async () => {
    for (const res of [
      await api.admin.listPermissions(user.tokens.access_token),
      await api.admin.createRole(user.tokens.access_token, { name: `x-${suffix}` }),
      await api.admin.setIdentityRoles(user.tokens.access_token, user.identityId, { roles: [{ role: 'admin' }] }),
      await api.admin.findIdentities(user.tokens.access_token, admin.login),
    ]) {
      expect({ status: res.status, body: res.body }).toEqual({
        status: 403,
        body: { error: 'You do not have the permission this needs (attune:admin)', code: 'FORBIDDEN', reason: 'permission_missing' },
      })
    }
    expect((await api.admin.listRoles(undefined)).status).toBe(401)
    // The refused attempt to become admin changed nothing.
    expect((await api.me(user.tokens.access_token)).body.data.roles).toEqual([])
  })

  it('define a permission and a role, refusing duplicates and unknown permissions', async () => {
    const created = await api.admin.createPermission(admin.tokens.access_token, { name: permission, description: 'Read invoices' })
    expect({ status: created.status, body: created.body }).toEqual({
      status: 201,
      body: { data: { name: permission, description: 'Read invoices' } },
    })
    expect((await api.admin.createPermission(admin.tokens.access_token, { name: permission })).body.reason).toBe('permission_exists')
    expect((await api.admin.createPermission(admin.tokens.access_token, { name: 'Invoices Read' })).status).toBe(400)
    const unknown = await api.admin.createRole(admin.tokens.access_token, { name: role, permissions: [`nothing${suffix}:read`] })
    expect(unknown.body).toMatchObject({ code: 'BAD_REQUEST', error: `permissions: no permission nothing${suffix}:read` })
    const roleRes = await api.admin.createRole(admin.tokens.access_token, { name: role, description: 'Books', permissions: [permission] })
    expect({ status: roleRes.status, body: roleRes.body }).toEqual({
      status: 201,
      body: { data: { name: role, description: 'Books', permissions: [permission] } },
    })
    expect((await api.admin.createRole(admin.tokens.access_token, { name: role })).body.reason).toBe('role_exists')
    expect((await api.admin.listRoles(admin.tokens.access_token)).body.data).toContainEqual({
      name: role,
      description: 'Books',
      permissions: [permission],
    })
    expect((await api.admin.listPermissions(admin.tokens.access_token)).body.data).toContainEqual({
      name: permission,
      description: 'Read invoices',
    })
  })

  it("set an identity's roles: granted on its next request, revoked on the next after, audited with the admin as actor", async () => {
    const set = await api.admin.setIdentityRoles(admin.tokens.access_token, user.identityId, { roles: [{ role }] })
    expect(set.status).toBe(200)
    expect(set.body.data).toEqual([{ role, granted_by: admin.identityId, granted_at: expect.any(String), expires_at: null }])
    expect((await api.me(user.tokens.access_token)).body.data).toMatchObject({ roles: [role], permissions: [permission] })
    // The same set again changes nothing: no new event.
    await api.admin.setIdentityRoles(admin.tokens.access_token, user.identityId, { roles: [{ role }] })
    expect((await api.admin.setIdentityRoles(admin.tokens.access_token, user.identityId, { roles: [] })).body.data).toEqual([])
    expect((await api.me(user.tokens.access_token)).body.data).toMatchObject({ roles: [], permissions: [] })
    const events = await getApp().sql`
      select type, actor_type, actor_id from attune.audit_event
      where identity_id = ${user.identityId} and type in ('role.granted', 'role.revoked') order by id`
    expect(events).toEqual([
      { type: 'role.granted', actor_type: 'admin', actor_id: String(admin.identityId) },
      { type: 'role.revoked', actor_type: 'admin', actor_id: String(admin.identityId) },
    ])
  })

  it("replace a role's permissions, seen by its holders at once", async () => {
    const other = `invoices${suffix}:write`
    await api.admin.createPermission(admin.tokens.access_token, { name: other })
    await api.admin.setIdentityRoles(admin.tokens.access_token, user.identityId, { roles: [{ role, expires_at: '2099-01-01T00:00:00Z' }] })
    const replaced = await api.admin.setRolePermissions(admin.tokens.access_token, role, { permissions: [other, permission] })
    expect(replaced.body.data).toEqual({ name: role, description: 'Books', permissions: [permission, other].sort() })
    expect((await api.me(user.tokens.access_token)).body.data.permissions).toEqual([permission, other].sort())
    expect((await api.admin.setRolePermissions(admin.tokens.access_token, `none-${suffix}`, { permissions: [] })).body.reason).toBe(
      'role_not_found',
    )
    expect((await api.admin.identityRoles(admin.tokens.access_token, user.identityId)).body.data).toEqual([
      { role, granted_by: admin.identityId, granted_at: expect.any(String), expires_at: '2099-01-01T00:00:00.000Z' },
    ])
  })

  it('refuse with 400, never a 500, a control character in a description and an expiry that is no real instant', async () => {
    // Found by the admin routes' fuzz tests: each reached the database and came back a 500.
    for (const description of ['\u0000', 'Books\u0007']) {
      const permissionRes = await api.admin.createPermission(admin.tokens.access_token, { name: `x${suffix}:a`, description })
      expect({ status: permissionRes.status, body: permissionRes.body }).toEqual({
        status: 400,
        body: { error: 'description must not contain control characters', code: 'BAD_REQUEST', reason: 'invalid_field' },
      })
      expect((await api.admin.createRole(admin.tokens.access_token, { name: `x-${suffix}`, description })).status).toBe(400)
    }
    for (const expires_at of [
      '2000-01-01T00:00:00 +00:00',
      '2027-01-01T00:00:00+05',
      '2027-01-01T00:00:00.5-03',
      '0000-01-01T00:00:00Z',
      '2027-02-31T00:00:00Z',
    ]) {
      const res = await api.admin.setIdentityRoles(admin.tokens.access_token, user.identityId, { roles: [{ role, expires_at }] })
      expect({ status: res.status, reason: res.body.reason }, expires_at).toEqual({ status: 400, reason: 'invalid_field' })
    }
    const offset = await api.admin.setIdentityRoles(admin.tokens.access_token, user.identityId, {
      roles: [{ role, expires_at: '2099-01-01T05:30:00.5+05:30' }],
    })
    expect(offset.body.data).toEqual([expect.objectContaining({ role, expires_at: '2099-01-01T00:00:00.500Z' })])
    await api.admin.setIdentityRoles(admin.tokens.access_token, user.identityId, { roles: [] })
    // Unknown names are named, three of them at most, whatever the request sent.
    const many = Array.from({ length: 150 }, (_, i) => `nothing${suffix}:r${String(i).padStart(3, '0')}`)
    const unknown = await api.admin.createRole(admin.tokens.access_token, { name: `x-${suffix}`, permissions: many })
    expect(unknown.body.error).toBe(`permissions: no permission ${many.slice(0, 3).join(', ')} and 147 more`)
  })

  it('find an identity by login or verified email, and answer 404 for an identity that does not exist', async () => {
    const found = await api.admin.findIdentities(admin.tokens.access_token, user.login.toUpperCase())
    expect(found.body.data).toEqual([
      { id: user.identityId, login: user.login, display_name: 'Test User', email: null, suspended_at: null },
    ])
    const withEmail = await verifiedUser()
    expect((await api.admin.findIdentities(admin.tokens.access_token, withEmail.email)).body.data).toEqual([
      expect.objectContaining({ id: withEmail.identityId, email: withEmail.email }),
    ])
    expect((await api.admin.findIdentities(admin.tokens.access_token, uniqueLogin('nobody'))).body.data).toEqual([])
    expect((await api.admin.identityRoles(admin.tokens.access_token, 999_999_999_999)).body.reason).toBe('identity_not_found')
    expect((await api.admin.identityRoles(admin.tokens.access_token, 'abc')).body.reason).toBe('identity_not_found')
  })
})
