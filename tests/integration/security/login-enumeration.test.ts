/**
 * Logging in does not tell which logins exist (README, "Errors"): an unknown login gets the answer a wrong
 * password gets (tests/integration/functions/login.test.ts), and the same cost, one Argon2 verification, made
 * against a dummy hash at the current parameters (lib/passwords/hashing.ts). Its time is measured by
 * tests/bench/endpoints.bench.ts; here the computations themselves are counted (tests/support/argon2-calls.ts),
 * so removing the dummy verification fails `npm test`, not only a benchmark.
 */
import { beforeAll, describe, expect, it, vi } from 'vitest'
import type { RegisteredUser } from '../../support/api.js'
import { api, registerUser } from '../../support/api.js'
import { argon2During } from '../../support/argon2-calls.js'
import { uniqueLogin } from '../../support/events.js'
import { insertIdentity } from '../../support/identities.js'

vi.mock(import('../../../lib/passwords/argon2id.js'), async (importOriginal) => {
  const { countingArgon2id } = await import('../../support/argon2-calls.js')
  return countingArgon2id(await importOriginal())
})

describe('the cost of a login', () => {
  let user: RegisteredUser

  beforeAll(async () => {
    // Registering hashes at the current parameters: the process's reused Argon2 instance exists from here on.
    user = await registerUser()
  })

  it('is exactly one Argon2 computation for an unknown login, as for a wrong password and for the right one', async () => {
    // One at a time: the counts are per process.
    const unknown = await argon2During(() => api.login({ login: uniqueLogin('nobody'), password: user.password }))
    const wrong = await argon2During(() => api.login({ login: user.login, password: `${user.password}!` }))
    const right = await argon2During(() => api.login({ login: user.login, password: user.password }))

    const cost = ({ result, computations, instances }: typeof unknown) => ({ status: result.status, computations, instances })
    // No instance of its own either: the dummy verification runs on the reused instance, at the same parameters.
    expect(cost(unknown)).toEqual({ status: 401, computations: 1, instances: [] })
    expect(cost(wrong)).toEqual({ status: 401, computations: 1, instances: [] })
    expect(cost(right)).toEqual({ status: 200, computations: 1, instances: [] })
    expect(unknown.result.body).toEqual(wrong.result.body)
  })

  it('is exactly one Argon2 computation for an identity without a password (external sign-in), refused as unknown', async () => {
    const login = uniqueLogin('sso')
    await insertIdentity(login)
    const unknown = await argon2During(() => api.login({ login: uniqueLogin('nobody'), password: 'some-password-1' }))
    const withoutPassword = await argon2During(() => api.login({ login, password: 'some-password-1' }))
    expect(withoutPassword).toMatchObject({ result: { status: 401 }, computations: 1, instances: [] })
    expect(withoutPassword.result.body).toEqual(unknown.result.body)
  })
})
