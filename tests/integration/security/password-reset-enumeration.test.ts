/**
 * POST /auth/password/forgot does not tell which accounts exist, nor which have a verified address: the
 * answer is the same (tests/integration/functions/password-reset.test.ts), and so is the work: the same
 * statements on the wire (counted by a proxy in front of PostgreSQL) and the same start of the mailer. Its
 * time is measured by tests/bench/endpoints.bench.ts (npm run bench).
 */

import * as v from 'valibot'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { recoveryParts } from '../../../lib/email/parts.js'
import { createPasswordRecovery } from '../../../lib/email/recovery.js'
import { ForgotPasswordBody } from '../../../lib/email/requests.js'
import { registerUser, uniqueEmail, verifiedUser } from '../../support/api.js'
import type { CountedApp } from '../../support/counted-app.js'
import { startCountedApp } from '../../support/counted-app.js'
import { uniqueLogin } from '../../support/events.js'

let counted: CountedApp

beforeAll(async () => {
  counted = await startCountedApp()
})
afterAll(() => counted?.close())

describe('the cost of POST /auth/password/forgot', () => {
  it('is the same statements and one start of the mailer, for an unknown login or address, an unverified account and a verified one', async () => {
    let kicks = 0
    const recovery = createPasswordRecovery({ ...recoveryParts(counted.app), mailKick: async () => void kicks++ })
    const verified = await verifiedUser()
    const unverified = await registerUser()
    const client = { requestId: null, userAgent: 'enumeration', sourceIp: '198.51.100.9' }
    const costOf = async (login: string) => {
      await counted.app.sql`select 1` // the connection is open and warm before counting
      counted.proxy.reset()
      const before = kicks
      expect(await recovery.forgot(v.parse(ForgotPasswordBody, { login }), client)).toEqual({ accepted: true })
      const { roundTrips, statements } = counted.proxy.counts()
      return { roundTrips, statements, kicks: kicks - before }
    }
    // A warm container: its statements are prepared once (two more round trips on the first request), whoever asked.
    await costOf(uniqueLogin('warm-up'))
    const costs = {
      unknownLogin: await costOf(uniqueLogin('nobody')),
      unknownAddress: await costOf(uniqueEmail('nobody')),
      unverified: await costOf(unverified.login),
      verifiedByLogin: await costOf(verified.login),
    }
    expect(costs.verifiedByLogin).toEqual({ roundTrips: 2, statements: 2, kicks: 1 })
    for (const cost of Object.values(costs)) expect(cost).toEqual(costs.verifiedByLogin)
  })
})
