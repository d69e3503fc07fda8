/**
 * How many cases the property tests of tests/integration/property generate, and from which seed.
 */

/**
 * The endpoints fuzzed, one property each: FUZZ_RUNS (the total) is split evenly between them. 6 public
 * (public-endpoints.test.ts), 8 behind the authorizer (protected-endpoints.test.ts), 8 admin (admin-endpoints.test.ts),
 * 7 two-factor (mfa-endpoints.test.ts: POST /auth/mfa/verify, public, and 6 behind the authorizer), 6 provider
 * sign-in (oauth-endpoints.test.ts: 3 public, 3 behind the authorizer).
 */
export const FUZZED_ENDPOINTS = 38
export const DEFAULT_SEED = 20261129
const DEFAULT_RUNS_PER_ENDPOINT = 100

export interface FuzzSettings {
  numRuns: number
  seed: number | undefined
  /** The per-test timeout for one property, scaled with its number of runs. */
  timeout: number
}

/**
 * `npm test`: 100 cases per endpoint with a fixed seed. `FUZZ_RUNS=10000`: that many cases in total,
 * with a fresh seed each run (fast-check prints it with any counterexample) unless FUZZ_SEED is set.
 */
export function fuzzSettings(env: Readonly<Record<string, string | undefined>>): FuzzSettings {
  const total = Number(env['FUZZ_RUNS'])
  const numRuns = Number.isInteger(total) && total > 0 ? Math.ceil(total / FUZZED_ENDPOINTS) : DEFAULT_RUNS_PER_ENDPOINT
  const seedText = env['FUZZ_SEED']
  const seed = seedText !== undefined && seedText !== '' ? Number(seedText) : env['FUZZ_RUNS'] ? undefined : DEFAULT_SEED
  return { numRuns, seed, timeout: 30_000 + numRuns * 250 }
}
