/**
 * A clock for tests that type TOTP codes: Date only is faked (timers, sockets and the database keep real time),
 * each test starts at the beginning of a 30-second step and moves step by step, so no test waits and none
 * straddles a step by chance. Codes come from the independent reference implementation.
 */
import { afterEach, beforeEach, vi } from 'vitest'
import { referenceStep, referenceTotp } from './totp-reference.js'

const STEP_MS = 30_000

/** Installs the clock for every test of the calling file. */
export function useTotpStepClock(): void {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime((Math.floor(Date.now() / STEP_MS) + 1) * STEP_MS)
  })
  afterEach(() => {
    vi.useRealTimers()
  })
}

/** Moves the clock `steps` TOTP steps on. */
export function later(steps = 1): void {
  vi.setSystemTime(Date.now() + steps * STEP_MS)
}

/** The code of `secret` now (or `offset` steps away). */
export const codeOf = (secret: string, offset = 0): string => referenceTotp(secret, referenceStep(Date.now()) + offset)
