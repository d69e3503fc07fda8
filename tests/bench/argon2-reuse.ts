/**
 * A benchmark-only prototype: hash-wasm's own Argon2 WebAssembly, driven the way hash-wasm 4.13.0's
 * `argon2id()` drives it (dist/index.esm.js, `argon2Internal`), except that the instance, its grown
 * memory and the BLAKE2b hashers are created once and reused by every call.
 *
 * hash-wasm 4.13.0 has no `createArgon2()` and does not export its WASM binary: every `argon2id()` call
 * instantiates a new Argon2 module (the compiled module is cached), grows a fresh memory to `m` KiB and
 * creates two or three BLAKE2b instances. This file reads the binary out of the installed package's
 * dist file to measure what reuse would save; it is not suitable for lib/ (it depends on the text of
 * hash-wasm's build), and the measured saving decides whether vendoring the binary is worth it.
 *
 * After `create()` resolves, `hash()` is synchronous, so calls never interleave on the shared instance.
 */

import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { createBLAKE2b } from 'hash-wasm'

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
  Memory: new (descriptor: { initial: number; maximum?: number }) => WasmMemory
}
export const WebAssemblyJs = (globalThis as unknown as { WebAssembly: WebAssemblyApi }).WebAssembly

interface Argon2Exports {
  memory: WasmMemory
  Hash_SetMemorySize(totalSize: number): void
  Hash_GetBuffer(): number
  Hash_Calculate(length: number, initParam: number, finalParam: number): void
}

export interface Argon2Parameters {
  memorySize: number
  iterations: number
  parallelism: number
  hashLength: number
}

let compiled: WasmModule | undefined

/** hash-wasm's Argon2 WebAssembly module, compiled once. */
function argon2Module(): WasmModule {
  if (compiled) return compiled
  const dist = join(dirname(createRequire(import.meta.url).resolve('hash-wasm')), 'index.esm.js')
  const source = readFileSync(dist, 'utf8')
  const match = /var name\$(\w+) = "argon2";\s*var data\$\1 = "([A-Za-z0-9+/=]+)"/.exec(source)
  if (!match?.[2]) throw new Error(`the Argon2 WebAssembly binary was not found in ${dist}`)
  const module = new WebAssemblyJs.Module(Buffer.from(match[2], 'base64'))
  compiled = module
  return module
}

const int32LE = (x: number): Uint8Array => {
  const bytes = new Uint8Array(4)
  new DataView(bytes.buffer).setInt32(0, x, true)
  return bytes
}

export interface ReusableArgon2id {
  /** Argon2id of `password` with `salt`, as raw bytes; identical to hash-wasm's `argon2id(..., outputType: 'binary')`. */
  hash(password: Uint8Array, salt: Uint8Array): Uint8Array
}

/** A reusable Argon2id at fixed parameters (p = 1 and hashLength ≤ 64 only: enough for the OWASP rows). */
export async function createReusableArgon2id(params: Argon2Parameters): Promise<ReusableArgon2id> {
  const { memorySize, iterations, parallelism, hashLength } = params
  if (parallelism !== 1 || hashLength > 64) throw new Error('prototype: parallelism 1 and hashLength <= 64 only')
  const instance = new WebAssemblyJs.Instance(argon2Module(), {})
  const wasm = instance.exports as unknown as Argon2Exports
  // As hash-wasm does: Hash_GetBuffer() first (its first call sets the buffer up; after Hash_SetMemorySize it
  // would point the buffer elsewhere and Hash_Calculate fails with "memory access out of bounds").
  wasm.Hash_GetBuffer()
  // Grown once to m KiB (+1 KiB for the init vector); WebAssembly memory never shrinks, so later calls reuse it.
  wasm.Hash_SetMemorySize(memorySize * 1024 + 1024)
  const blake512 = await createBLAKE2b(512)
  const blakeOut = await createBLAKE2b(hashLength * 8)
  const view = (): Uint8Array => new Uint8Array(wasm.memory.buffer, wasm.Hash_GetBuffer(), memorySize * 1024 + 1024)

  /** Argon2's variable-length H' for the 1024-byte blocks (the 64-byte tail uses the 512-bit hasher again). */
  function block(input: Uint8Array): Uint8Array {
    const out = new Uint8Array(1024)
    blake512.init()
    blake512.update(int32LE(1024))
    blake512.update(input)
    let v = blake512.digest('binary')
    out.set(v.subarray(0, 32), 0)
    for (let i = 1; i < 30; i++) {
      blake512.init()
      blake512.update(v)
      v = blake512.digest('binary')
      out.set(v.subarray(0, 32), i * 32)
    }
    blake512.init()
    blake512.update(v)
    out.set(blake512.digest('binary'), 30 * 32)
    return out
  }

  return {
    hash(password, salt) {
      const memory = view()
      const initVector = new Uint8Array(24)
      const iv = new DataView(initVector.buffer)
      iv.setInt32(0, parallelism, true)
      iv.setInt32(4, hashLength, true)
      iv.setInt32(8, memorySize, true)
      iv.setInt32(12, iterations, true)
      iv.setInt32(16, 0x13, true)
      iv.setInt32(20, 2, true) // Argon2id
      memory.set(initVector, memorySize * 1024)
      blake512.init()
      blake512.update(initVector)
      blake512.update(int32LE(password.length))
      blake512.update(password)
      blake512.update(int32LE(salt.length))
      blake512.update(salt)
      blake512.update(int32LE(0)) // secret
      blake512.update(int32LE(0)) // associated data
      const param = new Uint8Array(72)
      param.set(blake512.digest('binary'))
      param.set(int32LE(0), 64)
      param.set(int32LE(0), 68)
      memory.set(block(param), 0)
      param.set(int32LE(1), 64)
      memory.set(block(param), 1024)
      wasm.Hash_Calculate(0, memorySize, 0)
      const last = new Uint8Array(wasm.memory.buffer, wasm.Hash_GetBuffer(), 1024).slice()
      blakeOut.init()
      blakeOut.update(int32LE(hashLength))
      blakeOut.update(last)
      return blakeOut.digest('binary')
    },
  }
}
