/**
 * Counting Argon2. Every Argon2 computation of the service goes through an instance made by
 * lib/passwords/argon2id.ts `createArgon2id` (lib/passwords/hashing.ts is its only caller). A test file that
 * counts replaces that module with `countingArgon2id` of the real one, at its top (vi.mock is hoisted above
 * the imports, so the factory loads this file itself):
 *
 *   vi.mock(import('../../../lib/passwords/argon2id.js'), async (importOriginal) => {
 *     const { countingArgon2id } = await import('../../support/argon2-calls.js')
 *     return countingArgon2id(await importOriginal())
 *   })
 *
 * then reads what an action cost with `argon2During`. Outputs are the real ones: only counted.
 */
import type * as Argon2idModule from '../../lib/passwords/argon2id.js'
import type { Argon2idParameters } from '../../lib/passwords/argon2id.js'

const counted = {
  /** Whether lib/passwords/argon2id.ts was replaced by countingArgon2id in this test file: otherwise nothing is counted. */
  installed: false,
  /** Argon2 computations (`hash` calls on any instance). */
  computations: 0,
  /** The parameters of every instance made, in order. */
  instances: [] as Argon2idParameters[],
}

/** The real lib/passwords/argon2id.ts, with its instances and their computations counted. */
export function countingArgon2id(actual: typeof Argon2idModule): typeof Argon2idModule {
  counted.installed = true
  return {
    ...actual,
    async createArgon2id(params) {
      counted.instances.push({ ...params })
      const instance = await actual.createArgon2id(params)
      return {
        hash(password, salt) {
          counted.computations += 1
          return instance.hash(password, salt)
        },
      }
    },
  }
}

export interface Argon2Cost<T> {
  result: T
  /** Argon2 computations made during the action. */
  computations: number
  /** The parameters of the Argon2 instances made during the action (a reused instance is not made again). */
  instances: Argon2idParameters[]
}

/**
 * What `action` cost in Argon2. Counts are per test process and include whatever else runs meanwhile in it:
 * run the actions counted one at a time (or together, counting them together).
 */
export async function argon2During<T>(action: () => Promise<T>): Promise<Argon2Cost<T>> {
  // Loads the module (the mocked one, if this test file mocks it) in case nothing has yet: without the mock every
  // count would be zero, and "costs no Argon2" would pass without meaning anything.
  await import('../../lib/passwords/argon2id.js')
  if (!counted.installed)
    throw new Error('lib/passwords/argon2id.ts is not replaced by countingArgon2id in this test file (see tests/support/argon2-calls.ts)')
  const computations = counted.computations
  const instances = counted.instances.length
  const result = await action()
  return { result, computations: counted.computations - computations, instances: counted.instances.slice(instances) }
}
