/**
 * Property: whatever body, headers, Authorization and factor id a client sends to a two-factor route — POST
 * /auth/mfa/verify (public), and behind the authorizer GET /auth/mfa, POST /auth/mfa/totp, POST
 * /auth/mfa/totp/{id}/activate, DELETE /auth/mfa/totp/{id}, POST /auth/mfa/recovery-codes and POST
 * /auth/reauthenticate — the answer (our authorizer and Gateway Responses, then the handler) is a 200 or 201
 * `{data}` or a 4xx `{error, code, reason}` matching docs/openapi.yaml, never a 5xx, never a stack trace or an
 * internal detail.
 *
 * The cases run as two fuzz users: one with TOTP on (turned on through the real handlers), one without. The
 * generated codes are mostly real ones (tests/support/fuzz/mfa.ts): the current code of the case's factor, an
 * unspent recovery code, the mfa_token of a real login, the factor's own id; so the handlers' real paths run, up
 * to a success. A TOTP code is accepted once per 30-second step, so most cases that send the current code meet a
 * spent step (401 mfa_code_invalid): the successes of the code-taking routes come mostly from recovery codes.
 * Each case gets its own session and starts with the throttle counters it generated (mostly clear); what a case
 * changed (a factor removed or activated, a recovery code spent) is put back before the next.
 */
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { handler as recoveryCodesHandler } from '../../../functions/mfa-recovery-codes.js'
import { handler as statusHandler } from '../../../functions/mfa-status.js'
import { handler as activateHandler } from '../../../functions/mfa-totp-activate.js'
import { handler as enrolHandler } from '../../../functions/mfa-totp-enrol.js'
import { handler as removeHandler } from '../../../functions/mfa-totp-remove.js'
import { handler as verifyHandler } from '../../../functions/mfa-verify.js'
import { handler as reauthenticateHandler } from '../../../functions/reauthenticate.js'
import { getApp } from '../../../lib/app.js'
import { registerUser } from '../../support/api.js'
import type { GeneratedBody } from '../../support/fuzz/bodies.js'
import { body, jointBody } from '../../support/fuzz/bodies.js'
import { CaseContext, closeSessions } from '../../support/fuzz/case-context.js'
import { checkAnswer, StatusTally } from '../../support/fuzz/check.js'
import { authorization, headers } from '../../support/fuzz/headers.js'
import type { FactorIdChoice, MfaFuzzUser } from '../../support/fuzz/mfa.js'
import {
  applyPressure,
  clearThrottles,
  codeValue,
  enableTotp,
  enrol,
  exactlyOneOf,
  factorIdChoice,
  factorIdFor,
  inPath,
  MfaCase,
  mfaFuzzUser,
  mfaTokenValue,
  pressure,
  recoveryCodeValue,
  sometimes,
} from '../../support/fuzz/mfa.js'
import { ref } from '../../support/fuzz/refs.js'
import type { GeneratedRequest, Route } from '../../support/fuzz/send.js'
import { send } from '../../support/fuzz/send.js'
import { fuzzSettings } from '../../support/fuzz/settings.js'
import { field, plausiblePassword, wrongType } from '../../support/fuzz/values.js'

const settings = fuzzSettings(process.env)
const tallies = new Map<string, StatusTally>()

const route = (method: string, path: string, handler: Route['handler'], isProtected = true): Route => ({
  method,
  path,
  documentedPath: path,
  handler,
  protected: isProtected,
})

/** Who sends the case: the user with TOTP on, or the one without. */
type Caller = 'enrolled' | 'plain'
const callers = (enrolled: number, plain: number): fc.Arbitrary<Caller> =>
  fc.oneof({ weight: enrolled, arbitrary: fc.constant<Caller>('enrolled') }, { weight: plain, arbitrary: fc.constant<Caller>('plain') })

interface MfaEndpoint {
  route: Route
  body: fc.Arbitrary<GeneratedBody>
  caller: fc.Arbitrary<Caller>
  /** The route has a factor `{id}` in its path. */
  factorPath?: (id: string) => string
  success: 200 | 201
  /**
   * Refusals of the handler itself (not of the schema, not of the authorizer), of which the cases must reach some:
   * the generated codes, tokens and ids get past validation to the handler's own checks.
   */
  reached: string[]
}

const noBodyFields = {}

/**
 * A code or a recovery code, mostly exactly one of the two (the schema's rule), more often the recovery code: a
 * TOTP code passes once per 30-second step, so the successes come mostly from recovery codes.
 */
const secondFactor = (code: number, recovery: number) =>
  exactlyOneOf({ code: { value: codeValue, weight: code }, recovery_code: { value: recoveryCodeValue, weight: recovery } })

const ENDPOINTS: Record<string, MfaEndpoint> = {
  mfaVerify: {
    route: route('POST', '/auth/mfa/verify', verifyHandler, false),
    body: jointBody(
      ['mfa_token', 'code', 'recovery_code'],
      fc.tuple(field(mfaTokenValue, { plausible: 40 }), secondFactor(2, 4)).map(([mfa_token, proof]) => ({ mfa_token, ...proof })),
    ),
    caller: fc.constant<Caller>('enrolled'),
    success: 200,
    reached: ['mfa_token_invalid', 'mfa_code_invalid'],
  },
  status: {
    route: route('GET', '/auth/mfa', statusHandler),
    body: body(noBodyFields),
    caller: callers(3, 1),
    success: 200,
    reached: [],
  },
  enrol: {
    route: route('POST', '/auth/mfa/totp', enrolHandler),
    body: body({
      current_password: sometimes(
        field(fc.oneof({ weight: 2, arbitrary: fc.constant(ref('currentPassword')) }, { weight: 1, arbitrary: plausiblePassword })),
        3,
        2,
      ),
    }),
    caller: callers(1, 8),
    success: 201,
    reached: ['step_up_required', 'invalid_current_password', 'mfa_already_enabled'],
  },
  activate: {
    route: route('POST', '/auth/mfa/totp/{id}/activate', activateHandler),
    body: body({
      code: field(codeValue, { plausible: 60 }),
      end_other_sessions: fc.oneof(
        { weight: 4, arbitrary: fc.constant(undefined) },
        { weight: 4, arbitrary: fc.boolean() },
        { weight: 1, arbitrary: fc.constantFrom('true', 'false', 0, 1, null) },
        { weight: 1, arbitrary: wrongType },
      ),
    }),
    caller: fc.constant<Caller>('plain'),
    factorPath: (id) => `/auth/mfa/totp/${id}/activate`,
    success: 200,
    reached: ['mfa_code_invalid', 'mfa_factor_not_found'],
  },
  remove: {
    route: route('DELETE', '/auth/mfa/totp/{id}', removeHandler),
    body: jointBody(['code', 'recovery_code'], secondFactor(1, 6)),
    caller: callers(12, 1),
    factorPath: (id) => `/auth/mfa/totp/${id}`,
    success: 200,
    reached: ['mfa_code_invalid', 'mfa_factor_not_found'],
  },
  recoveryCodes: {
    route: route('POST', '/auth/mfa/recovery-codes', recoveryCodesHandler),
    body: jointBody(['code', 'recovery_code'], secondFactor(1, 5)),
    caller: callers(12, 1),
    success: 200,
    reached: ['mfa_code_invalid', 'mfa_factor_not_found'],
  },
  reauthenticate: {
    route: route('POST', '/auth/reauthenticate', reauthenticateHandler),
    body: jointBody(
      ['password', 'code', 'recovery_code'],
      exactlyOneOf({
        password: {
          value: fc.oneof({ weight: 2, arbitrary: fc.constant(ref('currentPassword')) }, { weight: 1, arbitrary: plausiblePassword }),
          weight: 3,
        },
        code: { value: codeValue, weight: 2 },
        recovery_code: { value: recoveryCodeValue, weight: 3 },
      }),
    ),
    caller: callers(3, 1),
    success: 200,
    reached: ['invalid_current_password', 'mfa_code_invalid', 'mfa_factor_not_found'],
  },
}

/** Now and then, the case's session signed in longer ago than STEP_UP_MAX_AGE (enrolling then needs the password). */
const staleSignIn = fc.oneof({ weight: 5, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) })

/** The codes a 200 from POST /auth/mfa/recovery-codes answered (the user's new ones), if that is what it was. */
function renewedCodes(name: string, status: number | undefined, raw: string | undefined): string[] | undefined {
  if (name !== 'recoveryCodes' || status !== 200 || raw === undefined) return undefined
  try {
    const codes = (JSON.parse(raw) as { data?: { recovery_codes?: unknown } }).data?.recovery_codes
    return Array.isArray(codes) && codes.every((c) => typeof c === 'string') ? codes : undefined
  } catch {
    return undefined
  }
}

describe('bad input on the two-factor routes', () => {
  /** TOTP on: the verify, remove, recovery-codes and reauthenticate cases. */
  let enrolled: MfaFuzzUser
  /** No factor: the enrol and activate cases (an activation is undone after its case). */
  let plain: MfaFuzzUser
  /** TOTP on, never a caller: its factor id is another user's. */
  let stranger: MfaFuzzUser

  beforeAll(async () => {
    const [e, p, s] = await Promise.all([registerUser(), registerUser(), registerUser()])
    enrolled = mfaFuzzUser(e)
    plain = mfaFuzzUser(p)
    stranger = mfaFuzzUser(s)
    await Promise.all([enableTotp(enrolled), enableTotp(stranger)])
    await Promise.all([closeSessions(enrolled), closeSessions(stranger)])
  })

  afterAll(() => {
    if (!process.env['FUZZ_RUNS']) return
    for (const [name, tally] of tallies) console.log(`fuzz ${name}: ${tally.total} cases — ${tally}\n  reasons: ${tally.reasonsToString()}`)
  })

  /** The factor path of a case: the concrete path and its parameter; for activate, an enrolment made for the case. */
  async function aimed(
    name: string,
    endpoint: MfaEndpoint,
    choice: FactorIdChoice,
    mfaCase: MfaCase,
    ctx: CaseContext,
  ): Promise<{ path: string; id: string | undefined }> {
    const factorPath = endpoint.factorPath ?? (() => endpoint.route.path)
    let own = mfaCase.user.factor?.id
    let replaced = mfaCase.user.formerFactorIds.at(-1)
    if (name === 'activate' && (choice.kind === 'own' || choice.kind === 'replaced')) {
      // A pending enrolment of the case's own, through the real handler; `replaced`: one a second enrolment replaced.
      const { pair } = await ctx.session()
      const first = await enrol(pair.access_token)
      mfaCase.factor = first
      own = first.id
      if (choice.kind === 'replaced') {
        replaced = first.id
        await enrol(pair.access_token)
      }
    }
    const id = factorIdFor(choice, own, replaced, stranger.factor?.id ?? '')
    return { path: factorPath(inPath(id)), id }
  }

  for (const [name, endpoint] of Object.entries(ENDPOINTS)) {
    const documented = endpoint.route
    it(
      `${documented.method} ${documented.path} answers any generated ${documented.protected ? 'Authorization, ' : ''}body${endpoint.factorPath ? ', factor id' : ''} and headers with a ${endpoint.success} {data} or a 4xx {error, code, reason}, never a 5xx or internals`,
      async () => {
        const tally = new StatusTally()
        tallies.set(name, tally)
        const request = fc.record({
          caller: endpoint.caller,
          headers,
          body: endpoint.body,
          auth: documented.protected ? authorization : fc.option(authorization, { freq: 8 }),
          factorId: factorIdChoice,
          pressure,
          stale: staleSignIn,
        })
        await fc.assert(
          fc.asyncProperty(request, async ({ caller, headers: h, body: b, auth, factorId, pressure: prior, stale }) => {
            const user = caller === 'enrolled' ? enrolled : plain
            const mfaCase = new MfaCase(user)
            const ctx = new CaseContext(user, mfaCase.resolve)
            let answered: { status: number; raw: string } | undefined
            try {
              await applyPressure(user, prior)
              let target = documented
              const generated: GeneratedRequest = { headers: h, body: b, ...(auth === null ? {} : { auth }) }
              if (endpoint.factorPath) {
                const { path, id } = await aimed(name, endpoint, factorId, mfaCase, ctx)
                target = { ...documented, path }
                generated.pathParameters = id === undefined ? null : { id }
              }
              if (stale) {
                const { sessionId } = await ctx.session()
                await getApp().sql`update attune.session set auth_time = now() - interval '10 minutes' where id = ${sessionId}`
              }
              const answer = await send(target, generated, ctx)
              answered = answer
              const { status, body: checked } = checkAnswer(target, answer)
              tally.add(status, checked)
            } finally {
              // Put back what the case changed, so that no case decides the next (nor a shrunk replay).
              await mfaCase.settle(renewedCodes(name, answered?.status, answered?.raw))
              await closeSessions(user)
              await clearThrottles(user)
            }
          }),
          { numRuns: settings.numRuns, ...(settings.seed === undefined ? {} : { seed: settings.seed }) },
        )
        expect(tally.total).toBeGreaterThanOrEqual(settings.numRuns)
        // Some valid requests get through, so the handlers' real paths run to the end (the successes of the
        // code-taking routes come mostly from recovery codes: a TOTP code passes once per 30-second step).
        expect(tally.count(endpoint.success), `${tally}; ${tally.reasonsToString()}`).toBeGreaterThan(0)
        if (endpoint.reached.length > 0) {
          const reached = endpoint.reached.reduce((n, reason) => n + tally.countReason(reason), 0)
          expect(reached, tally.reasonsToString()).toBeGreaterThan(0)
        }
      },
      settings.timeout,
    )
  }
})
