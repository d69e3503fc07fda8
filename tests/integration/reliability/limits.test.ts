/**
 * Limits, on the real endpoints: an oversized body answers 413; a login or display
 * name past its bound 400; a password past its maximum 400 — before any hashing. "Before any hashing"
 * is shown structurally: every Argon2 computation of the service goes through an instance made by
 * lib/passwords/argon2id.ts `createArgon2id` (lib/passwords/hashing.ts is its only caller), whose instances are
 * counted here (tests/support/argon2-calls.ts); those answers come with zero, while a request that gets through
 * validation makes exactly one.
 */
import { beforeAll, describe, expect, it, vi } from 'vitest'
import { handler as loginHandler } from '../../../functions/login.js'
import { DISPLAY_NAME_MAX_LENGTH, LOGIN_MAX_LENGTH } from '../../../lib/auth/requests.js'
import { MAX_BODY_BYTES } from '../../../lib/http/body.js'
import { PASSWORD_MAX_LENGTH } from '../../../lib/passwords/hashing.js'
import type { RegisteredUser } from '../../support/api.js'
import { api, registerUser } from '../../support/api.js'
import { argon2During } from '../../support/argon2-calls.js'
import { invoke, restEvent, uniqueLogin } from '../../support/events.js'

vi.mock(import('../../../lib/passwords/argon2id.js'), async (importOriginal) => {
  const { countingArgon2id } = await import('../../support/argon2-calls.js')
  return countingArgon2id(await importOriginal())
})

const TOO_LARGE = { error: `Request body must be at most ${MAX_BODY_BYTES} bytes`, code: 'PAYLOAD_TOO_LARGE' }
const ONE_MB = 1024 * 1024

/** A JSON object body of exactly `bytes` bytes: `{"login":"…","password":"securepassword123","pad":"xxx…"}`. */
function bodyOfSize(bytes: number, fields: Record<string, string> = { login: 'someone', password: 'securepassword123' }): string {
  const base = JSON.stringify({ ...fields, pad: '' })
  const body = JSON.stringify({ ...fields, pad: 'x'.repeat(bytes - Buffer.byteLength(base)) })
  expect(Buffer.byteLength(body)).toBe(bytes)
  return body
}

describe('limits on the real endpoints', () => {
  let user: RegisteredUser

  beforeAll(async () => {
    user = await registerUser()
  })

  describe(`bodies over ${MAX_BODY_BYTES} bytes`, () => {
    it('answer 413 PAYLOAD_TOO_LARGE on every route that takes a body, without hashing anything', async () => {
      const big = bodyOfSize(MAX_BODY_BYTES + 1)
      const { result, computations } = await argon2During(() =>
        Promise.all([
          api.register(big),
          api.login(big),
          api.refresh(big),
          api.changePassword(
            user.tokens.access_token,
            bodyOfSize(MAX_BODY_BYTES + 1, { current_password: user.password, new_password: 'securepassword456' }),
          ),
          api.logout(user.tokens.access_token, bodyOfSize(MAX_BODY_BYTES + 1, { scope: 'local' })),
        ]),
      )
      for (const res of result) expect(res).toMatchObject({ status: 413, body: TOO_LARGE })
      expect(computations).toBe(0)
    })

    it('are measured in UTF-8 bytes, not characters: 6,000 three-byte characters are too large', async () => {
      const body = JSON.stringify({ login: '語'.repeat(6000), password: 'securepassword123' })
      expect(body.length).toBeLessThan(MAX_BODY_BYTES)
      expect(await api.register(body)).toMatchObject({ status: 413, body: TOO_LARGE })
    })

    it('answer 413 for a base64-encoded body (as API Gateway sends binary bodies) whose decoded size is over the limit', async () => {
      const text = bodyOfSize(MAX_BODY_BYTES + 3)
      const event = restEvent({
        method: 'POST',
        path: '/auth/login',
        body: Buffer.from(text).toString('base64'),
        headers: { 'Content-Type': 'application/json' },
        isBase64Encoded: true,
      })
      expect(await invoke(loginHandler, event)).toMatchObject({ status: 413, body: TOO_LARGE })
    })

    it(`accept a body of exactly ${MAX_BODY_BYTES} bytes (then judge its fields)`, async () => {
      const res = await api.login(bodyOfSize(MAX_BODY_BYTES, { login: uniqueLogin('exact'), password: 'securepassword123' }))
      expect(res).toMatchObject({ status: 401, body: { code: 'UNAUTHORIZED' } })
    })
  })

  describe('logins and display names', () => {
    it(`answer 400 for a login past ${LOGIN_MAX_LENGTH} characters, on register and on login`, async () => {
      const long = 'x'.repeat(LOGIN_MAX_LENGTH + 1)
      const message = `login must be at most ${LOGIN_MAX_LENGTH} characters`
      const { result, computations } = await argon2During(() =>
        Promise.all([
          api.register({ login: long, password: 'securepassword123' }),
          api.login({ login: long, password: 'securepassword123' }),
        ]),
      )
      for (const res of result) expect(res).toMatchObject({ status: 400, body: { error: message, code: 'BAD_REQUEST' } })
      expect(computations).toBe(0)
    })

    it(`count a login in characters, not UTF-16 units: ${LOGIN_MAX_LENGTH} emoji are accepted, ${LOGIN_MAX_LENGTH + 1} are not`, async () => {
      const suffix = uniqueLogin('')
      const atBound = [...'🦊'.repeat(LOGIN_MAX_LENGTH - [...suffix].length), ...suffix].join('')
      expect([...atBound]).toHaveLength(LOGIN_MAX_LENGTH)
      expect((await api.register({ login: atBound, password: 'securepassword123' })).status).toBe(200)
      expect((await api.register({ login: `🦊${atBound}`, password: 'securepassword123' })).status).toBe(400)
    })

    it(`answer 400 for a display name past ${DISPLAY_NAME_MAX_LENGTH} characters and accept one at the bound`, async () => {
      const over = await api.register({
        login: uniqueLogin(),
        password: 'securepassword123',
        display_name: '名'.repeat(DISPLAY_NAME_MAX_LENGTH + 1),
      })
      expect(over).toMatchObject({
        status: 400,
        body: { error: `display_name must be at most ${DISPLAY_NAME_MAX_LENGTH} characters`, code: 'BAD_REQUEST' },
      })
      const at = await api.register({
        login: uniqueLogin(),
        password: 'securepassword123',
        display_name: '🦊'.repeat(DISPLAY_NAME_MAX_LENGTH),
      })
      expect(at.status).toBe(200)
      expect((await api.me(at.body.data.access_token)).body.data.display_name).toBe('🦊'.repeat(DISPLAY_NAME_MAX_LENGTH))
    })
  })

  describe(`passwords past ${PASSWORD_MAX_LENGTH} characters`, () => {
    const over = 'p'.repeat(PASSWORD_MAX_LENGTH + 1)
    const nearBodyLimit = 'p'.repeat(MAX_BODY_BYTES - 200)

    it('answer 400 on register, login and change-password without a single Argon2 computation', async () => {
      for (const password of [over, nearBodyLimit]) {
        const { result, computations } = await argon2During(() =>
          Promise.all([
            api.register({ login: uniqueLogin(), password }),
            api.login({ login: user.login, password }),
            api.changePassword(user.tokens.access_token, { current_password: password, new_password: 'securepassword456' }),
            api.changePassword(user.tokens.access_token, { current_password: user.password, new_password: password }),
          ]),
        )
        expect(result.map((res) => [res.status, res.body.code])).toEqual(Array(4).fill([400, 'BAD_REQUEST']))
        expect(result.map((res) => res.body.error)).toEqual([
          `password must be at most ${PASSWORD_MAX_LENGTH} characters`,
          `password must be at most ${PASSWORD_MAX_LENGTH} characters`,
          `current_password must be at most ${PASSWORD_MAX_LENGTH} characters`,
          `new_password must be at most ${PASSWORD_MAX_LENGTH} characters`,
        ])
        expect(computations).toBe(0)
      }
    })

    it('answer 413 for a 1 MB password, before the body is even parsed, without any Argon2 computation', async () => {
      const { result, computations } = await argon2During(() =>
        Promise.all([
          api.register({ login: uniqueLogin(), password: 'p'.repeat(ONE_MB) }),
          api.login({ login: user.login, password: 'p'.repeat(ONE_MB) }),
        ]),
      )
      for (const res of result) expect(res).toMatchObject({ status: 413, body: TOO_LARGE })
      expect(computations).toBe(0)
    })

    it('are measured after NFKC normalisation: 256 ligatures that expand to 4,608 characters are refused before hashing', async () => {
      // U+FDFA (ARABIC LIGATURE SALLALLAHOU ALAYHE WASALLAM) becomes 18 characters under NFKC.
      const expanding = '\uFDFA'.repeat(PASSWORD_MAX_LENGTH)
      expect([...expanding.normalize('NFKC')]).toHaveLength(PASSWORD_MAX_LENGTH * 18)
      const { result, computations } = await argon2During(() => api.register({ login: uniqueLogin(), password: expanding }))
      expect(result).toMatchObject({
        status: 400,
        body: { error: `password must be at most ${PASSWORD_MAX_LENGTH} characters`, code: 'BAD_REQUEST' },
      })
      expect(computations).toBe(0)
    })

    it(`hash a password of exactly ${PASSWORD_MAX_LENGTH} characters: one Argon2 computation to register, one to log in`, async () => {
      // Four-byte characters, not one repeated (the blocklist refuses that): 256 code points, 1,024 UTF-8 bytes.
      const password = Array.from({ length: PASSWORD_MAX_LENGTH }, (_, i) => String.fromCodePoint(0x1f400 + (i % 64))).join('')
      const login = uniqueLogin()
      const registered = await argon2During(() => api.register({ login, password }))
      expect(registered.result.status).toBe(200)
      expect(registered.computations).toBe(1)
      const loggedIn = await argon2During(() => api.login({ login, password }))
      expect(loggedIn.result.status).toBe(200)
      expect(loggedIn.computations).toBe(1)
    })
  })
})
