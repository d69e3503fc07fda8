/**
 * Argon2id (version 0x13) on hash-wasm's own Argon2 WebAssembly, with everything reusable created once.
 *
 * hash-wasm 4.13.0's `argon2id()` instantiates a new Argon2 module, grows a fresh WebAssembly memory to m KiB and
 * creates new BLAKE2b hashers on every call, and it has no `createArgon2()`. At 7 MiB, t=5 that is about a third
 * of a warm hash (tests/bench/argon2.bench.ts, docs/PERFORMANCE.md). Here the module is compiled once, from the
 * binary vendored in lib/passwords/argon2-wasm.ts, and each `createArgon2id()` makes one instance, grows its memory once
 * (WebAssembly memory never shrinks: keep an instance for the parameters used on every call, make a throwaway one
 * for the rest), zeroes it before each hash (about 0.1 ms at 7 MiB) and keeps its BLAKE2b hashers. The calls into
 * the module are those of hash-wasm's `argon2Internal` (lib/argon2.ts in the package), so the output is byte for
 * byte hash-wasm's, for any parallelism and hash length (no secret, no associated data).
 * `hash()` is synchronous, so calls never interleave on an instance.
 */

import { createBLAKE2b } from 'hash-wasm'
import { ARGON2_WASM_BASE64 } from './argon2-wasm.js'

/** The few WebAssembly JS APIs used here (the project's TypeScript lib has no DOM, hence no WebAssembly types). */
export interface WasmMemory {
  readonly buffer: ArrayBuffer
  grow(pages: number): number
}
interface WasmModule {
  readonly kind?: never
}
interface WebAssemblyApi {
  Module: new (bytes: Uint8Array) => WasmModule
  Instance: new (module: WasmModule, imports: object) => { exports: object }
}
const WebAssemblyJs = (globalThis as unknown as { WebAssembly: WebAssemblyApi }).WebAssembly

/** The exports of hash-wasm's Argon2 module (src/argon2.c in the package) that are called here. */
interface Argon2Exports {
  memory: WasmMemory
  Hash_SetMemorySize(totalSize: number): number
  Hash_GetBuffer(): number
  Hash_Calculate(length: number, memorySize: number, unused: number): void
}

export interface Argon2idParameters {
  /** Memory in KiB (at least 8 per lane). */
  memorySize: number
  /** Passes over the memory (at least 1). */
  iterations: number
  /** Lanes (at least 1). */
  parallelism: number
  /** Bytes of output (at least 4). */
  hashLength: number
}

export interface Argon2id {
  /** Argon2id of `password` with `salt`, raw bytes: what hash-wasm's `argon2id({ ..., outputType: 'binary' })` answers. */
  hash(password: Uint8Array, salt: Uint8Array): Uint8Array
}

const VERSION = 0x13
const ARGON2ID = 2
const BLOCK = 1024

let compiled: WasmModule | undefined

/** hash-wasm's Argon2 module, compiled on first use and then shared by every instance. */
function argon2Module(): WasmModule {
  compiled ??= new WebAssemblyJs.Module(Buffer.from(ARGON2_WASM_BASE64, 'base64'))
  return compiled
}

const int32LE = (x: number): Uint8Array => {
  const bytes = new Uint8Array(4)
  new DataView(bytes.buffer).setInt32(0, x, true)
  return bytes
}

const isInteger = (x: number, min: number, max = Number.MAX_SAFE_INTEGER): boolean => Number.isInteger(x) && x >= min && x <= max

/** A reusable Argon2id at fixed parameters. Throws, as hash-wasm does, on parameters it cannot compute. */
export async function createArgon2id(params: Argon2idParameters): Promise<Argon2id> {
  const { memorySize, iterations, parallelism, hashLength } = params
  if (!isInteger(iterations, 1)) throw new Error('Iterations should be a positive number')
  if (!isInteger(parallelism, 1, 0xffffff)) throw new Error('Parallelism should be a positive number')
  if (!isInteger(hashLength, 4, 0xffffffff)) throw new Error('Hash length should be at least 4 bytes.')
  if (!isInteger(memorySize, 8 * parallelism, 0xffffffff)) throw new Error('Memory size should be at least 8 * parallelism.')
  const blocksBytes = memorySize * BLOCK
  // The m blocks, then one more for the init vector that Hash_Calculate reads its parameters from.
  const totalBytes = blocksBytes + BLOCK
  // Each lane is 4 segments; m is rounded down to a multiple of 4p blocks, as the reference does.
  const laneLength = Math.floor(memorySize / (parallelism * 4)) * 4

  const wasm = new WebAssemblyJs.Instance(argon2Module(), {}).exports as unknown as Argon2Exports
  // As hash-wasm does: Hash_GetBuffer() first (its first call places the buffer at the end of the initial memory
  // and preallocates 512 KiB), then Hash_SetMemorySize() grows the memory to fit m KiB + 1 KiB, once.
  const offset = wasm.Hash_GetBuffer()
  wasm.Hash_SetMemorySize(totalBytes)
  // Its return value says nothing reliable (below 512 KiB it answers -1 with nothing to grow): check the memory itself.
  if (offset === 0 || wasm.Hash_GetBuffer() !== offset || wasm.memory.buffer.byteLength < offset + totalBytes) {
    throw new Error(`Argon2: could not grow WebAssembly memory to ${memorySize} KiB`)
  }

  // H' (RFC 9106 §3.3) needs BLAKE2b-512, and one BLAKE2b of the tag's last part: hashLength bytes up to 64,
  // else what is left after the 32-byte chunks (33 to 64 bytes).
  const tagBytes = hashLength <= 64 ? hashLength : hashLength - 32 * (Math.ceil(hashLength / 32) - 2)
  const [blake512, blakeTag] = await Promise.all([createBLAKE2b(512), createBLAKE2b(tagBytes * 8)])

  /** Argon2's variable-length hash H'(length || input), written into `out` from `at`. */
  function hPrime(length: number, input: Uint8Array, out: Uint8Array, at: number): void {
    if (length <= 64) {
      const hasher = length === 64 ? blake512 : blakeTag
      hasher.init()
      hasher.update(int32LE(length))
      hasher.update(input)
      out.set(hasher.digest('binary'), at)
      return
    }
    const chunks = Math.ceil(length / 32) - 2
    blake512.init()
    blake512.update(int32LE(length))
    blake512.update(input)
    let v = blake512.digest('binary')
    out.set(v.subarray(0, 32), at)
    for (let i = 1; i < chunks; i++) {
      blake512.init()
      blake512.update(v)
      v = blake512.digest('binary')
      out.set(v.subarray(0, 32), at + i * 32)
    }
    const last = length - 32 * chunks
    const hasher = last === 64 ? blake512 : blakeTag
    hasher.init()
    hasher.update(v)
    out.set(hasher.digest('binary'), at + chunks * 32)
  }

  const initVector = new Uint8Array(24)
  const iv = new DataView(initVector.buffer)
  iv.setInt32(0, parallelism, true)
  iv.setInt32(4, hashLength, true)
  iv.setInt32(8, memorySize, true)
  iv.setInt32(12, iterations, true)
  iv.setInt32(16, VERSION, true)
  iv.setInt32(20, ARGON2ID, true)

  return {
    hash(password, salt) {
      if (password.length < 1) throw new Error('Password must be specified')
      if (salt.length < 8) throw new Error('Salt should be at least 8 bytes long')
      // The memory is grown once and never again, so its buffer stays the same; a view per call costs nothing.
      const memory = new Uint8Array(wasm.memory.buffer, offset, totalBytes)
      // Hash_Calculate (a port of Go's x/crypto/argon2) XORs every new block into its slot, first pass included:
      // it counts on zeroed memory, which hash-wasm gets by growing a fresh memory per call. Zeroing is far cheaper.
      memory.fill(0, 0, blocksBytes)
      memory.set(initVector, blocksBytes)
      // H0, then each lane's first two blocks: H'(H0 || 0 || lane) and H'(H0 || 1 || lane).
      blake512.init()
      blake512.update(initVector)
      blake512.update(int32LE(password.length))
      blake512.update(password)
      blake512.update(int32LE(salt.length))
      blake512.update(salt)
      blake512.update(int32LE(0)) // no secret
      blake512.update(int32LE(0)) // no associated data
      const seed = new Uint8Array(72)
      seed.set(blake512.digest('binary'))
      for (let lane = 0; lane < parallelism; lane++) {
        seed.set(int32LE(lane), 68)
        seed.set(int32LE(0), 64)
        hPrime(BLOCK, seed, memory, lane * laneLength * BLOCK)
        seed.set(int32LE(1), 64)
        hPrime(BLOCK, seed, memory, (lane * laneLength + 1) * BLOCK)
      }
      wasm.Hash_Calculate(0, memorySize, 0)
      // Hash_Calculate leaves the final block (the XOR of every lane's last block) at the start of the buffer.
      const tag = new Uint8Array(hashLength)
      hPrime(hashLength, memory.subarray(0, BLOCK), tag, 0)
      return tag
    },
  }
}
