/**
 * The service-account admin routes, through our authorizer as API Gateway runs them: only a caller holding
 * service_accounts:manage now, signed in with a second factor (aal2), gets through; keys are answered once, work
 * in the authorizer on the next request, and rotate and revoke as documented; every change is audited.
 */
import { randomUUID } from 'node:crypto'
import type { APIGatewayAuthorizerResult } from 'aws-lambda'
import { beforeAll, describe, expect, it } from 'vitest'
import { handler as authorizer } from '../../../functions/authorizer.js'
import { runAdmin } from '../../../infra/admin.js'
import { getApp } from '../../../lib/app.js'
import type { RegisteredUser } from '../../support/api.js'
import { api, registerUser } from '../../support/api.js'
import { requestAuthorizerEvent } from '../../support/events.js'
import { referenceStep, referenceTotp } from '../../support/totp-reference.js'

const admin = (...argv: string[]) => runAdmin(argv, getApp().sql)
const authorize = async (key: string) =>
  (await authorizer(requestAuthorizerEvent({ Authorization: `Bearer ${key}` }))) as APIGatewayAuthorizerResult

/** An administrator (the built-in admin role) who turned TOTP on: the aal2 access token activation answered. */
async function aal2Administrator(): Promise<{ user: RegisteredUser; token: string }> {
  const user = await registerUser()
  await admin('grant-role', user.login, 'admin')
  const enrolment = await api.mfa.enrol(user.tokens.access_token)
  const { factor_id, secret } = enrolment.body.data
  const activated = await api.mfa.activate(user.tokens.access_token, factor_id, { code: referenceTotp(secret, referenceStep(Date.now())) })
  expect(activated.status).toBe(200)
  return { user, token: activated.body.data.access_token }
}

describe('the service-account admin routes', () => {
  let token: string
  const suffix = randomUUID().slice(0, 8)
  const permission = `reports${suffix}:read`

  beforeAll(async () => {
    ;({ token } = await aal2Administrator())
    await admin('create-permission', permission)
    await admin('create-role', `reporter-${suffix}`, permission)
  })

  it('refuse a caller without service_accounts:manage (403), and an administrator without a second factor (401 step-up)', async () => {
    const stranger = await registerUser()
    const refused = await api.serviceAccounts.create(stranger.tokens.access_token, { name: `x-${suffix}` })
    expect({ status: refused.status, body: refused.body }).toEqual({
      status: 403,
      body: {
        error: 'You do not have the permission this needs (service_accounts:manage)',
        code: 'FORBIDDEN',
        reason: 'permission_missing',
      },
    })
    const aal1 = await registerUser()
    await admin('grant-role', aal1.login, 'admin')
    const stepUp = await api.serviceAccounts.create(aal1.tokens.access_token, { name: `x-${suffix}` })
    expect({ status: stepUp.status, reason: stepUp.body.reason }).toEqual({ status: 401, reason: 'step_up_required' })
    expect(stepUp.headers['WWW-Authenticate']).toBe(
      'Bearer realm="attune-auth", error="insufficient_user_authentication", acr_values="aal2"',
    )
    expect((await getApp().sql`select 1 from attune.identity where login = ${`service:x-${suffix}`}`).length).toBe(0)
  })

  it('create an account and a key that works in the authorizer on the next request, within the account’s permissions', async () => {
    const name = `reports-${suffix}`
    const created = await api.serviceAccounts.create(token, { name })
    expect({ status: created.status, body: created.body }).toEqual({
      status: 201,
      body: { data: { id: expect.any(Number), name, login: `service:${name}` } },
    })
    const id = created.body.data.id
    expect((await api.serviceAccounts.create(token, { name })).body.reason).toBe('service_account_exists')
    // A key may only carry permissions its account holds.
    const tooWide = await api.serviceAccounts.createKey(token, id, { name: 'nightly', scopes: [permission] })
    expect({ status: tooWide.status, error: tooWide.body.error }).toEqual({
      status: 400,
      error: `scopes: the account does not hold ${permission}`,
    })
    await api.admin.setIdentityRoles(token, id, { roles: [{ role: `reporter-${suffix}` }] })
    const key = await api.serviceAccounts.createKey(token, id, { name: 'nightly', scopes: [permission], expires_in_days: 30 })
    expect(key.status).toBe(201)
    expect(key.body.data).toMatchObject({ name: 'nightly', scopes: [permission], key: expect.stringMatching(/^atk_test_/) })
    const result = await authorize(key.body.data.key)
    expect(result.context).toMatchObject({ principalType: 'service', keyId: key.body.data.id, permissions: permission })
    // Listed by metadata only.
    const listed = await api.serviceAccounts.listKeys(token, id)
    expect(listed.body.data).toEqual([expect.objectContaining({ id: key.body.data.id, display: key.body.data.display, revoked_at: null })])
    expect(JSON.stringify(listed.body)).not.toContain(key.body.data.key)
  })

  it('rotate a key (both work for the overlap) and revoke one (refused on its next request), audited with the admin as actor', async () => {
    const name = `rotating-${suffix}`
    const id = (await api.serviceAccounts.create(token, { name })).body.data.id
    await api.admin.setIdentityRoles(token, id, { roles: [{ role: `reporter-${suffix}` }] })
    const first = (await api.serviceAccounts.createKey(token, id, { name: 'sync', scopes: [permission] })).body.data
    const rotated = await api.serviceAccounts.rotateKey(token, id, first.id)
    expect(rotated.status).toBe(201)
    expect(rotated.body.data).toMatchObject({ replaces: first.id, overlap_hours: 24, key: expect.stringMatching(/^atk_test_/) })
    expect((await authorize(first.key)).policyDocument.Statement[0]?.Effect).toBe('Allow')
    expect((await authorize(rotated.body.data.key)).policyDocument.Statement[0]?.Effect).toBe('Allow')
    expect((await api.serviceAccounts.rotateKey(token, id, first.id)).body.reason).toBe('api_key_not_found')

    expect((await api.serviceAccounts.revokeKey(token, id, rotated.body.data.id)).body.data).toEqual({ revoked: true })
    expect((await authorize(rotated.body.data.key)).context).toMatchObject({ reason: 'token_invalid' })
    expect((await api.serviceAccounts.revokeKey(token, id, rotated.body.data.id)).body.reason).toBe('api_key_not_found')
    expect((await api.serviceAccounts.listKeys(token, 999_999_999)).body.reason).toBe('service_account_not_found')

    const events = await getApp().sql`
      select type, actor_type from attune.audit_event where identity_id = ${id} and type like 'api_key.%' order by id`
    expect(events).toEqual([
      { type: 'api_key.created', actor_type: 'admin' },
      { type: 'api_key.rotated', actor_type: 'admin' },
      { type: 'api_key.revoked', actor_type: 'admin' },
    ])
  })
})
