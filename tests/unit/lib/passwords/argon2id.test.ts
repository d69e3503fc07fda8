import { hashRaw } from '@node-rs/argon2'
import fc from 'fast-check'
import { argon2id } from 'hash-wasm'
import { describe, expect, it } from 'vitest'
import { extractArgon2WasmBase64, installedArgon2Wasm, VENDOR_COMMAND } from '../../../../infra/vendor-argon2-wasm.js'
import { ARGON2_WASM_BASE64 } from '../../../../lib/passwords/argon2-wasm.js'
import { type Argon2idParameters, createArgon2id } from '../../../../lib/passwords/argon2id.js'
import { ARGON2_PARAMS } from '../../../../lib/passwords/hashing.js'

const SMALL = { memorySize: 64, iterations: 3, parallelism: 1, hashLength: 32 } as const
const AT_PARAMS = {
  memorySize: ARGON2_PARAMS.memorySize,
  iterations: ARGON2_PARAMS.iterations,
  parallelism: ARGON2_PARAMS.parallelism,
  hashLength: ARGON2_PARAMS.hashLength,
}
const PROPERTY = { seed: 20_261_129, numRuns: 15 }

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex')
const bytes = (text: string): Uint8Array => new TextEncoder().encode(text)

/** hash-wasm's `argon2id()`, which builds everything afresh on each call: the reference. */
const hashWasm = (p: Argon2idParameters, password: Uint8Array, salt: Uint8Array): Promise<string> =>
  argon2id({ ...p, password, salt, outputType: 'hex' })

/** @node-rs/argon2 (native, the reference implementation): Argon2id, version 0x13. */
const native = async (p: Argon2idParameters, password: Uint8Array, salt: Uint8Array): Promise<string> =>
  hex(
    await hashRaw(password, {
      algorithm: 2, // Algorithm.Argon2id (a const enum: not importable with isolatedModules)
      version: 1, // Version.V0x13
      memoryCost: p.memorySize,
      timeCost: p.iterations,
      parallelism: p.parallelism,
      outputLen: p.hashLength,
      salt,
    }),
  )

const passwords = fc.uint8Array({ minLength: 1, maxLength: 200 })
const salts = fc.uint8Array({ minLength: 8, maxLength: 64 })

describe('createArgon2id (hash-wasm’s Argon2 WebAssembly, instance reused)', () => {
  it('computes byte for byte what hash-wasm’s argon2id() and @node-rs/argon2 compute, call after call (64 KiB, t=3)', async () => {
    const argon2 = await createArgon2id(SMALL)
    await fc.assert(
      fc.asyncProperty(passwords, salts, async (password, salt) => {
        const reused = hex(argon2.hash(password, salt))
        expect(reused).toBe(await hashWasm(SMALL, password, salt))
        expect(reused).toBe(await native(SMALL, password, salt))
      }),
      PROPERTY,
    )
  })

  it('computes what hash-wasm and @node-rs/argon2 compute for any lanes and hash length, call after call on one instance', async () => {
    const shapes = fc.record({
      parallelism: fc.integer({ min: 1, max: 4 }),
      hashLength: fc.integer({ min: 4, max: 160 }),
      iterations: fc.integer({ min: 1, max: 3 }),
    })
    await fc.assert(
      fc.asyncProperty(shapes, passwords, salts, passwords, async (shape, password, salt, second) => {
        const p = { ...shape, memorySize: 8 * shape.parallelism + 24 }
        const argon2 = await createArgon2id(p)
        argon2.hash(second, salt) // leaves its blocks behind in the reused memory
        const reused = hex(argon2.hash(password, salt))
        expect(reused).toBe(await hashWasm(p, password, salt))
        expect(reused).toBe(await native(p, password, salt))
      }),
      PROPERTY,
    )
  })

  it('computes what hash-wasm and @node-rs/argon2 compute at ARGON2_PARAMS (7 MiB, t=5, 32 bytes)', async () => {
    const argon2 = await createArgon2id(AT_PARAMS)
    const cases = [
      [bytes('correct horse battery staple'), new Uint8Array(16).fill(7)],
      [bytes('caf\u00e9-password \u{1f511}'), Uint8Array.from({ length: 16 }, (_, i) => i * 17)],
      [new Uint8Array([0]), new Uint8Array(8).fill(0xff)],
    ] as const
    for (const [password, salt] of cases) {
      const reused = hex(argon2.hash(password, salt))
      expect(reused).toBe(await hashWasm(AT_PARAMS, password, salt))
      expect(reused).toBe(await native(AT_PARAMS, password, salt))
    }
  })

  it('computes what hash-wasm computes at other lengths and memory sizes, including m not a multiple of 4', async () => {
    for (const p of [
      { memorySize: 8, iterations: 1, parallelism: 1, hashLength: 4 },
      { memorySize: 13, iterations: 2, parallelism: 1, hashLength: 64 },
      { memorySize: 1030, iterations: 1, parallelism: 1, hashLength: 16 },
      { memorySize: 4096, iterations: 2, parallelism: 4, hashLength: 32 },
      { memorySize: 100, iterations: 1, parallelism: 3, hashLength: 100 },
      { memorySize: 64, iterations: 1, parallelism: 1, hashLength: 1024 },
    ]) {
      const password = bytes('password')
      const salt = new Uint8Array(16).fill(3)
      const reused = hex((await createArgon2id(p)).hash(password, salt))
      expect(reused).toBe(await hashWasm(p, password, salt))
      expect(reused).toBe(await native(p, password, salt))
    }
  })

  it('keeps no state from one call to the next: A, then B, then A again gives the first A', async () => {
    const argon2 = await createArgon2id(SMALL)
    const salt = new Uint8Array(16).fill(1)
    const first = hex(argon2.hash(bytes('password A'), salt))
    const other = hex(argon2.hash(bytes('a much longer password B, to leave other bytes behind'), new Uint8Array(32).fill(2)))
    expect(hex(argon2.hash(bytes('password A'), salt))).toBe(first)
    expect(other).not.toBe(first)
  })

  it('gives different hashes for different salts, and for different passwords', async () => {
    const argon2 = await createArgon2id(SMALL)
    const a = hex(argon2.hash(bytes('password'), new Uint8Array(16).fill(1)))
    expect(hex(argon2.hash(bytes('password'), new Uint8Array(16).fill(2)))).not.toBe(a)
    expect(hex(argon2.hash(bytes('passwore'), new Uint8Array(16).fill(1)))).not.toBe(a)
  })

  it('keeps instances with different parameters apart: each still computes its own parameters', async () => {
    const small = await createArgon2id(SMALL)
    const other = await createArgon2id({ memorySize: 256, iterations: 2, parallelism: 2, hashLength: 16 })
    const password = bytes('shared password')
    const salt = new Uint8Array(16).fill(9)
    const before = hex(small.hash(password, salt))
    const otherHash = hex(other.hash(password, salt))
    expect(hex(small.hash(password, salt))).toBe(before)
    expect(before).toBe(await hashWasm(SMALL, password, salt))
    expect(otherHash).toBe(await hashWasm({ memorySize: 256, iterations: 2, parallelism: 2, hashLength: 16 }, password, salt))
    expect(otherHash).toHaveLength(32)
  })

  it('refuses parameters it cannot compute', async () => {
    await expect(createArgon2id({ ...SMALL, memorySize: 7 })).rejects.toThrow('Memory size')
    await expect(createArgon2id({ ...SMALL, memorySize: 64.5 })).rejects.toThrow('Memory size')
    await expect(createArgon2id({ ...SMALL, iterations: 0 })).rejects.toThrow('Iterations')
    await expect(createArgon2id({ ...SMALL, hashLength: 3 })).rejects.toThrow('Hash length')
    await expect(createArgon2id({ ...SMALL, parallelism: 0 })).rejects.toThrow('Parallelism')
    await expect(createArgon2id({ ...SMALL, parallelism: 9, memorySize: 71 })).rejects.toThrow('Memory size')
    // More than WebAssembly's 4 GiB of memory.
    await expect(createArgon2id({ ...SMALL, memorySize: 4 * 1024 * 1024 })).rejects.toThrow('could not grow')
  })

  it('refuses an empty password and a salt shorter than 8 bytes, as hash-wasm does, and still works after', async () => {
    const argon2 = await createArgon2id(SMALL)
    expect(() => argon2.hash(new Uint8Array(0), new Uint8Array(16))).toThrow('Password must be specified')
    expect(() => argon2.hash(bytes('password'), new Uint8Array(7))).toThrow('Salt should be at least 8 bytes long')
    const salt = new Uint8Array(8)
    expect(hex(argon2.hash(bytes('password'), salt))).toBe(await hashWasm(SMALL, bytes('password'), salt))
  })
})

describe('lib/passwords/argon2-wasm.ts (vendored hash-wasm binary)', () => {
  it('is the Argon2 binary of the installed hash-wasm', () => {
    const installed = installedArgon2Wasm()
    expect(
      ARGON2_WASM_BASE64 === installed.base64,
      `lib/passwords/argon2-wasm.ts is not hash-wasm ${installed.version}'s Argon2 binary: run \`${VENDOR_COMMAND}\``,
    ).toBe(true)
  })

  it('extraction fails loudly when hash-wasm’s build no longer has the shape it looks for', () => {
    expect(() => extractArgon2WasmBase64('var name$1 = "argon2";\nvar data$2 = "AGFzbQEAAAA=";')).toThrow('not found')
    expect(() => extractArgon2WasmBase64('var name$1 = "argon2";\nvar data$1 = "aGVsbG8gd29ybGQh";')).toThrow('not WebAssembly')
  })
})
