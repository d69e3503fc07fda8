import { afterEach, describe, expect, it, vi } from 'vitest'
import { answerNoSoonerThan, FORGOT_ANSWER_FLOOR_MS } from '../../../../lib/email/recovery.js'

afterEach(() => {
  vi.useRealTimers()
})

describe('the answer floor of POST /auth/password/forgot', () => {
  it('waits out the rest of the floor when the work was quick, and not at all when it was slow', async () => {
    vi.useFakeTimers()
    let now = 1000
    let done = false
    const waiting = answerNoSoonerThan(1000, FORGOT_ANSWER_FLOOR_MS, () => now).then(() => {
      done = true
    })
    now = 1030 // 30 ms of work
    await vi.advanceTimersByTimeAsync(FORGOT_ANSWER_FLOOR_MS - 31)
    expect(done).toBe(false)
    await vi.advanceTimersByTimeAsync(FORGOT_ANSWER_FLOOR_MS)
    await waiting
    expect(done).toBe(true)

    let late = false
    await answerNoSoonerThan(0, FORGOT_ANSWER_FLOOR_MS, () => FORGOT_ANSWER_FLOOR_MS + 5).then(() => {
      late = true
    })
    expect(late).toBe(true)
  })

  it('is well above the work it hides (about 1-2 ms of statements, tens of ms for the mailer invocation)', () => {
    expect(FORGOT_ANSWER_FLOOR_MS).toBeGreaterThanOrEqual(100)
  })
})
