/**
 * Secrets read at run time (lib/secrets.ts, lib/config.ts refreshSecrets): with SECRETS_PATH set, as on every
 * deployed stage, the functions' environment holds no secret; the real handlers read them from SSM (a stand-in
 * speaking SSM's protocol, tests/support/ssm-stand-in.ts), signed with SigV4, once per SECRETS_MAX_AGE, and a
 * rotated secret reaches a warm container without a deploy.
 */
import { decodeJwt, jwtVerify } from 'jose'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { handler as me } from '../../../functions/me.js'
import { getApp } from '../../../lib/app.js'
import { getConfig } from '../../../lib/config.js'
import { api, authorizerContextFor } from '../../support/api.js'
import { invoke, restEvent, uniqueLogin } from '../../support/events.js'
import type { SsmStandIn } from '../../support/ssm-stand-in.js'
import { startSsmStandIn } from '../../support/ssm-stand-in.js'

const PATH = '/attune-auth/runtime-test'
const SECRET_VARIABLES = ['JWT_SECRET', 'PSEUDONYM_KEY', 'MFA_ENCRYPTION_KEYS', 'DATABASE_URL'] as const
const FIRST_JWT_SECRET = 'runtime-jwt-secret-from-ssm-0123456789abcdefghijkl'
const ROTATED_JWT_SECRET = 'rotated-jwt-secret-from-ssm-ZYXWVUTSRQPONMLKJIHGFE'

let ssm: SsmStandIn
const saved: Record<string, string | undefined> = {}

beforeAll(async () => {
  ssm = await startSsmStandIn('AKIDRUNTIMETEST')
  for (const name of [
    ...SECRET_VARIABLES,
    'SECRETS_PATH',
    'SSM_ENDPOINT',
    'AWS_ACCESS_KEY_ID',
    'AWS_SECRET_ACCESS_KEY',
    'AWS_SESSION_TOKEN',
    'AWS_REGION',
  ])
    saved[name] = process.env[name]
  // The secrets move to SSM; the environment keeps only where they are.
  ssm.parameters.set(`${PATH}/jwt-secret`, FIRST_JWT_SECRET)
  ssm.parameters.set(`${PATH}/pseudonym-key`, process.env['PSEUDONYM_KEY'] as string)
  ssm.parameters.set(`${PATH}/mfa-encryption-keys`, process.env['MFA_ENCRYPTION_KEYS'] as string)
  ssm.parameters.set(`${PATH}/database-url`, process.env['DATABASE_URL'] as string)
  for (const name of SECRET_VARIABLES) delete process.env[name]
  Object.assign(process.env, {
    SECRETS_PATH: PATH,
    SSM_ENDPOINT: ssm.url,
    AWS_ACCESS_KEY_ID: 'AKIDRUNTIMETEST',
    AWS_SECRET_ACCESS_KEY: 'runtime-test-secret-access-key',
    AWS_SESSION_TOKEN: 'runtime-test-session-token',
    AWS_REGION: 'eu-west-1',
  })
})

afterAll(async () => {
  for (const [name, value] of Object.entries(saved)) {
    if (value === undefined) delete process.env[name]
    else process.env[name] = value
  }
  await ssm?.close()
})

afterEach(() => {
  vi.useRealTimers()
  ssm.failure = undefined
})

const register = () => api.register({ login: uniqueLogin('ssm'), password: 'securepassword123' })

describe('secrets read at run time from SSM', () => {
  it('answers 503 while SSM cannot be read at a cold start, and nothing is built from a missing secret', async () => {
    ssm.failure = 'denied'
    const refused = await register()
    expect(refused.status).toBe(503)
    expect(refused.body).toMatchObject({ code: 'SERVICE_UNAVAILABLE', reason: 'service_unavailable' })
    ssm.failure = 'down'
    expect((await register()).status).toBe(503)
  })

  it('reads every secret with one signed call at the first request, and signs tokens with the secret from SSM', async () => {
    const callsBefore = ssm.calls.length
    const res = await register()
    expect(res.status).toBe(200)
    // One call for the seven secrets (at most ten names per call), none of them read from the environment.
    expect(ssm.calls.slice(callsBefore)).toEqual([
      [
        `${PATH}/jwt-secret`,
        `${PATH}/jwt-private-key`,
        `${PATH}/jwt-previous-secret`,
        `${PATH}/pseudonym-key`,
        `${PATH}/mfa-encryption-keys`,
        `${PATH}/database-url`,
      ],
    ])
    await expect(jwtVerify(res.body.data.access_token, new TextEncoder().encode(FIRST_JWT_SECRET))).resolves.toBeDefined()
    expect(process.env['JWT_SECRET']).toBeUndefined()
    // The authorizer reads them the same way.
    expect((await authorizerContextFor('GET', '/auth/me', res.body.data.access_token))['principalId']).toBe(
      decodeJwt(res.body.data.access_token).sub,
    )
  })

  it('asks SSM again only once SECRETS_MAX_AGE has passed, and keeps its values when that read fails', async () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    await register()
    const calls = ssm.calls.length
    for (let i = 0; i < 3; i++) expect((await register()).status).toBe(200)
    expect(ssm.calls.length).toBe(calls)
    vi.setSystemTime(Date.now() + 301_000)
    ssm.failure = 'down'
    const during = await register()
    expect(during.status).toBe(200)
    // One read, retried twice by the client on SSM's 503.
    expect(ssm.calls.length).toBe(calls + 3)
    await expect(jwtVerify(during.body.data.access_token, new TextEncoder().encode(FIRST_JWT_SECRET))).resolves.toBeDefined()
  })

  it('picks up a rotated secret without a deploy: new tokens use it, the old ones verify through the overlap', async () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    const before = await register()
    const appBefore = getApp()
    ssm.parameters.set(`${PATH}/jwt-secret`, ROTATED_JWT_SECRET)
    ssm.parameters.set(`${PATH}/jwt-previous-secret`, FIRST_JWT_SECRET)
    process.env['JWT_PREVIOUS_SECRET_UNTIL'] = new Date(Date.now() + 3_600_000).toISOString()
    try {
      // Past the age of the last read, and of the retry a failed read (the test before) scheduled.
      vi.setSystemTime(Date.now() + 700_000)
      const after = await register()
      expect(after.status).toBe(200)
      await expect(jwtVerify(after.body.data.access_token, new TextEncoder().encode(ROTATED_JWT_SECRET))).resolves.toBeDefined()
      expect(getApp()).not.toBe(appBefore)
      expect(getConfig().jwt.previousSecret).toEqual(new TextEncoder().encode(FIRST_JWT_SECRET))
      // A token signed before the rotation still works on a protected route.
      const event = restEvent({
        method: 'GET',
        path: '/auth/me',
        authorizer: await authorizerContextFor('GET', '/auth/me', before.body.data.access_token),
      })
      expect((await invoke(me, event)).status).toBe(200)
    } finally {
      delete process.env['JWT_PREVIOUS_SECRET_UNTIL']
    }
  })
})
