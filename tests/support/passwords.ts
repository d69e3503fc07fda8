/** Password fixtures for tests and benchmarks. */
import { randomBytes } from 'node:crypto'
import { argon2id } from 'hash-wasm'

/** A PHC hash at the former default parameters (19 MiB, t=2, p=1): a row stored before the switch to 7 MiB, t=5. */
export function formerDefaultHash(password: string): Promise<string> {
  return argon2id({
    password,
    salt: randomBytes(16),
    memorySize: 19456,
    iterations: 2,
    parallelism: 1,
    hashLength: 32,
    outputType: 'encoded',
  })
}
