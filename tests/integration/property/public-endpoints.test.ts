/**
 * Property: whatever body and headers a client sends to register, login or refresh, the answer is a
 * 200 `{data}` (when the input happens to be valid) or a 4xx `{error, code, reason}` matching docs/openapi.yaml,
 * never a 5xx, never a stack trace or an internal detail.
 *
 * `npm test` runs 100 cases per endpoint with a fixed seed; `FUZZ_RUNS=N` runs N cases in total over the
 * endpoints of tests/integration/property (FUZZED_ENDPOINTS in tests/support/fuzz/settings.ts).
 */
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { handler as emailVerifyHandler } from '../../../functions/email-verify.js'
import { handler as loginHandler } from '../../../functions/login.js'
import { handler as forgotHandler } from '../../../functions/password-forgot.js'
import { handler as resetHandler } from '../../../functions/password-reset.js'
import { handler as refreshHandler } from '../../../functions/refresh.js'
import { handler as registerHandler } from '../../../functions/register.js'
import { registerUser } from '../../support/api.js'
import { body } from '../../support/fuzz/bodies.js'
import type { FuzzUser } from '../../support/fuzz/case-context.js'
import { CaseContext, closeSessions } from '../../support/fuzz/case-context.js'
import { checkAnswer, StatusTally } from '../../support/fuzz/check.js'
import { authorization, headers } from '../../support/fuzz/headers.js'
import { ref } from '../../support/fuzz/refs.js'
import type { Route } from '../../support/fuzz/send.js'
import { send } from '../../support/fuzz/send.js'
import { fuzzSettings } from '../../support/fuzz/settings.js'
import { field, plausibleDisplayName, plausibleLogin, plausiblePassword, weirdString, wrongType } from '../../support/fuzz/values.js'

const settings = fuzzSettings(process.env)
const tallies = new Map<string, StatusTally>()

const ROUTES = {
  register: { method: 'POST', path: '/auth/register', documentedPath: '/auth/register', handler: registerHandler, protected: false },
  login: { method: 'POST', path: '/auth/login', documentedPath: '/auth/login', handler: loginHandler, protected: false },
  refresh: { method: 'POST', path: '/auth/refresh', documentedPath: '/auth/refresh', handler: refreshHandler, protected: false },
  forgot: {
    method: 'POST',
    path: '/auth/password/forgot',
    documentedPath: '/auth/password/forgot',
    handler: forgotHandler,
    protected: false,
  },
  reset: { method: 'POST', path: '/auth/password/reset', documentedPath: '/auth/password/reset', handler: resetHandler, protected: false },
  verify: {
    method: 'POST',
    path: '/auth/email/verify',
    documentedPath: '/auth/email/verify',
    handler: emailVerifyHandler,
    protected: false,
  },
} satisfies Record<string, Route>

/** What a mail's token looks like (43 base64url characters), or not quite. */
const emailTokenLike = fc.oneof(
  fc.uint8Array({ minLength: 32, maxLength: 32 }).map((bytes) => Buffer.from(bytes).toString('base64url')),
  weirdString,
)

const plausibleEmail = fc.oneof(
  fc.emailAddress(),
  weirdString.map((s) => `${s}@example.com`),
  weirdString,
)

const displayName = fc.oneof(
  { weight: 6, arbitrary: fc.constant(undefined) },
  { weight: 6, arbitrary: plausibleDisplayName },
  { weight: 3, arbitrary: weirdString },
  { weight: 1, arbitrary: wrongType },
)

const jwtLike = fc
  .tuple(fc.base64String({ maxLength: 40 }), fc.base64String({ maxLength: 120 }), fc.base64String({ maxLength: 44 }))
  .map((parts) => parts.map((p) => p.replace(/=+$/, '').replaceAll('+', '-').replaceAll('/', '_')).join('.'))

const GENERATORS = {
  register: body({
    login: field(plausibleLogin),
    password: field(plausiblePassword),
    display_name: displayName,
    email: fc.oneof(
      { weight: 3, arbitrary: fc.constant(undefined) },
      { weight: 1, arbitrary: plausibleEmail },
      { weight: 1, arbitrary: wrongType },
    ),
  }),
  forgot: body({
    login: field(
      fc.oneof(
        { weight: 2, arbitrary: fc.constant(ref('login')) },
        { weight: 1, arbitrary: plausibleLogin },
        { weight: 1, arbitrary: plausibleEmail },
      ),
    ),
  }),
  reset: body({ token: field(emailTokenLike), new_password: field(plausiblePassword) }),
  verify: body({ token: field(emailTokenLike) }),
  login: body({
    login: field(fc.oneof({ weight: 2, arbitrary: fc.constant(ref('login')) }, { weight: 1, arbitrary: plausibleLogin })),
    password: field(fc.oneof({ weight: 1, arbitrary: fc.constant(ref('currentPassword')) }, { weight: 2, arbitrary: plausiblePassword })),
  }),
  refresh: body({
    refresh_token: field(
      fc.oneof(
        { weight: 4, arbitrary: fc.constant(ref('refreshToken')) },
        { weight: 1, arbitrary: fc.constant(ref('rotatedRefreshToken')) },
        { weight: 1, arbitrary: fc.constant(ref('accessToken')) },
        { weight: 2, arbitrary: jwtLike },
      ),
    ),
  }),
}

describe('bad input on the public endpoints', () => {
  let user: FuzzUser

  beforeAll(async () => {
    const registered = await registerUser()
    user = { identityId: registered.identityId, login: registered.login, password: registered.password }
  })

  afterAll(() => {
    if (process.env['FUZZ_RUNS']) for (const [name, tally] of tallies) console.log(`fuzz ${name}: ${tally.total} cases — ${tally}`)
  })

  for (const name of ['register', 'login', 'refresh', 'forgot', 'reset', 'verify'] as const) {
    const route: Route = ROUTES[name]
    it(
      `${route.method} ${route.path} answers any generated body and headers with a 200 {data} or a 4xx {error, code, reason}, never a 5xx or internals`,
      async () => {
        const tally = new StatusTally()
        tallies.set(name, tally)
        const request = fc.record({ headers, body: GENERATORS[name], auth: fc.option(authorization, { freq: 8 }) })
        await fc.assert(
          fc.asyncProperty(request, async ({ headers: h, body: b, auth }) => {
            const ctx = new CaseContext(user)
            try {
              const answer = await send(route, { headers: h, body: b, ...(auth === null ? {} : { auth }) }, ctx)
              const { status, body: answered } = checkAnswer(route, answer)
              tally.add(status, answered)
            } finally {
              await closeSessions(user)
            }
          }),
          { numRuns: settings.numRuns, ...(settings.seed === undefined ? {} : { seed: settings.seed }) },
        )
        expect(tally.total).toBeGreaterThanOrEqual(settings.numRuns)
        // The arbitraries are meant to get some valid requests through, so the handlers' real paths run too
        // (a made-up token is refused with a 400, so reset and verify only reach their lookups).
        if (name === 'forgot') expect(tally.count(202)).toBeGreaterThan(0)
        else if (name !== 'reset' && name !== 'verify') expect(tally.count(200)).toBeGreaterThan(0)
        else expect(tally.count(400)).toBeGreaterThan(0)
      },
      settings.timeout,
    )
  }
})
