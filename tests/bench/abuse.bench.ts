/**
 * Password guessing against one account, with the default throttling, on the real rules and PostgreSQL:
 * how many wrong passwords an attacker gets through in the first hour (goal: ≤ 30). An hour cannot be
 * waited for, so time is simulated: when an attempt is refused, the attacker "waits" its Retry-After (or
 * longer) by moving the counters' timestamps back by that much, exactly what the passing of that time would
 * do to them. Strategies: guess whenever allowed; pause instead until the counter starts over once the wait
 * reaches a threshold (every threshold tried, the best kept); rotate over 50 source addresses.
 * Then the login time of a throttled attempt (429, no Argon2) beside a wrong password and an unknown login.
 */
import { describe } from 'vitest'
import type { App } from '../../lib/app.js'
import { createApp } from '../../lib/app.js'
import { loadConfig } from '../../lib/config.js'
import { uniqueLogin } from '../support/events.js'
import { loginInput, registerInput, rulesOf } from '../support/rules.js'
import { createRecorder, fixed, markdownTable, recordGoals } from './support.js'

const env: Record<string, string | undefined> = { ...process.env, LOG_LEVEL: 'silent' }
delete env['REGISTRATIONS_PER_ADDRESS']
delete env['ADDRESS_MAX_FAILURES']
const app: App = createApp(loadConfig(env))
const rules = rulesOf(app)
const { account } = app.config.throttle
const HOUR = 3600
let addressCounter = 0
const address = (): string => {
  addressCounter += 1
  return `198.18.${(addressCounter >> 8) & 255}.${addressCounter & 255}`
}

async function victim(): Promise<string> {
  const login = uniqueLogin('victim')
  await rules.register(registerInput(login, 'the-victims-own-password-9'), { requestId: null, userAgent: 'bench', sourceIp: address() })
  return login
}

/** Moves every counter's timestamps `seconds` into the past: what waiting that long does to them. */
const elapse = (seconds: number) => app.sql`
  update attune.throttle
  set touched = touched - make_interval(secs => ${seconds}), window_start = window_start - make_interval(secs => ${seconds}),
      blocked_until = blocked_until - make_interval(secs => ${seconds})
  where touched > now() - interval '2 days'`

/**
 * Wrong guesses that get through in the first hour. `pauseFrom`: once a refusal asks to wait this long or
 * more, wait until the counter starts over instead (the wait, then the quiet time).
 */
async function guessesInAnHour(options: { pauseFrom?: number; addresses?: number }): Promise<number> {
  const login = await victim()
  const sources = Array.from({ length: options.addresses ?? 1 }, address)
  let clock = 0
  let guesses = 0
  for (let attempt = 0; clock < HOUR; attempt++) {
    try {
      await rules.login(loginInput(login, `guess-${attempt}-password`), {
        requestId: null,
        userAgent: 'bench',
        sourceIp: sources[attempt % sources.length] ?? null,
      })
    } catch (error) {
      const status = (error as { status?: number }).status
      if (status === 401) {
        guesses += 1
        continue
      }
      const retryAfter = Number((error as { headers?: Record<string, string> }).headers?.['Retry-After'])
      const wait = options.pauseFrom !== undefined && retryAfter >= options.pauseFrom ? retryAfter + account.quietSeconds : retryAfter
      clock += wait
      await elapse(wait)
    }
  }
  return guesses
}

const greedy = await guessesInAnHour({})
const pauses: Array<[number, number]> = []
for (const threshold of [2, 8, 32, 128, 256, 512]) pauses.push([threshold, await guessesInAnHour({ pauseFrom: threshold })])
const bestPause = pauses.reduce((best, row) => (row[1] > best[1] ? row : best))
const fiftyAddresses = await guessesInAnHour({ addresses: 50 })
const worst = Math.max(greedy, bestPause[1], fiftyAddresses)

// Login time: a throttled attempt against the other two, on warm containers (the same rules object).
const throttledLogin = await victim()
for (let i = 0; i < account.free; i++)
  await rules
    .login(loginInput(throttledLogin, `warm-up-${i}-guess`), { requestId: null, userAgent: 'bench', sourceIp: address() })
    .catch(() => {})
const known = await victim()
const nobody = uniqueLogin('nobody')
const recorder = createRecorder()
const attempt = (login: string) => () =>
  rules.login(loginInput(login, 'not-the-password-1'), { requestId: null, userAgent: 'bench', sourceIp: address() }).catch(() => {})
const NAMES = {
  throttled: 'login refused by the throttle (429)',
  wrong: 'login, wrong password (401)',
  unknown: 'login, unknown login (401)',
}
const OPTIONS = { time: 0, iterations: 15, warmupTime: 0, warmupIterations: 2 }
describe('login under throttling, warm', () => {
  recorder.bench(NAMES.throttled, attempt(throttledLogin), OPTIONS)
  // Both reset their account's counter after each attempt, to stay under the free attempts: unthrottled.
  recorder.bench(
    NAMES.wrong,
    async () => {
      await attempt(known)()
      await app.throttle.reset(app.throttleKeys.login(known))
    },
    OPTIONS,
  )
  recorder.bench(
    NAMES.unknown,
    async () => {
      await attempt(nobody)()
      await app.throttle.reset(app.throttleKeys.login(nobody))
    },
    OPTIONS,
  )
})

recorder.whenDone(async () => {
  console.log(
    markdownTable(
      `Wrong passwords one client gets through against one account in its first hour (defaults: ${account.free} free, waits from 1 s doubling to ${account.maxDelaySeconds} s, counter starts over after ${account.quietSeconds} quiet s)`,
      ['strategy', 'guesses'],
      [
        ['guess whenever allowed', String(greedy)],
        ...pauses.map(([threshold, n]): [string, string] => [
          `pause for the counter to start over once the wait reaches ${threshold} s`,
          String(n),
        ]),
        ['guess whenever allowed, from 50 addresses in turn', String(fiftyAddresses)],
      ],
    ),
  )
  const ms = (name: string) => recorder.median(name)
  console.log(
    markdownTable(
      'Login time, warm, median ms',
      ['case', 'ms'],
      Object.values(NAMES).map((name) => [name, fixed(ms(name))]),
    ),
  )
  recordGoals('abuse', [
    {
      goal: 'guesses against one account in the first hour, default throttling: ≤ 30',
      measured: `${worst} at most (greedy ${greedy}; best pause strategy ${bestPause[1]} at ${bestPause[0]} s; 50 addresses ${fiftyAddresses})`,
      met: worst <= 30,
    },
    {
      goal: 'login: unknown login vs wrong password while not throttled (±10%)',
      measured: `${fixed(ms(NAMES.unknown))} vs ${fixed(ms(NAMES.wrong))} ms; throttled ${fixed(ms(NAMES.throttled))} ms`,
      met: Math.abs(ms(NAMES.unknown) / ms(NAMES.wrong) - 1) <= 0.1,
    },
  ])
  await app.sql.end()
})
