import { hash as nativeHash, verify as nativeVerify } from '@node-rs/argon2'
import { argon2id } from 'hash-wasm'
import { describe, expect, it, vi } from 'vitest'
import { ARGON2_PARAMS, DUMMY_HASH, hashPassword, needsRehash, parseArgon2Hash, verifyPassword } from '../../../../lib/passwords/hashing.js'
import { argon2During } from '../../../support/argon2-calls.js'

// lib/passwords/argon2id.ts as it is, with its instances and computations counted: ARGON2_PARAMS must reuse one instance.
vi.mock(import('../../../../lib/passwords/argon2id.js'), async (importOriginal) => {
  const { countingArgon2id } = await import('../../../support/argon2-calls.js')
  return countingArgon2id(await importOriginal())
})

describe('passwords', () => {
  it('hashes to an Argon2id PHC string with OWASP parameters and a random salt', async () => {
    const a = await hashPassword('securepassword123')
    const b = await hashPassword('securepassword123')
    expect(a).toMatch(/^\$argon2id\$v=19\$m=7168,t=5,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/)
    expect(a).not.toBe(b)
  })

  it('verifies the right password and refuses a wrong one', async () => {
    const hash = await hashPassword('securepassword123')
    expect(await verifyPassword('securepassword123', hash)).toBe(true)
    expect(await verifyPassword('securepassword124', hash)).toBe(false)
    expect(await verifyPassword('', hash)).toBe(false)
  })

  it('never verifies against a missing or unreadable hash', async () => {
    expect(await verifyPassword('anything-at-all', null)).toBe(false)
    expect(await verifyPassword('anything-at-all', undefined)).toBe(false)
    expect(await verifyPassword('anything-at-all', 'not-a-hash')).toBe(false)
    expect(await verifyPassword('anything-at-all', '$2b$10$abcdefghijklmnopqrstuu7bC7Uo8zX1u2oMTXjLzZg0wq4nFQvC')).toBe(false)
  })

  it('treats canonically equivalent Unicode passwords as the same password (NFKC)', async () => {
    const composed = 'caf\u00e9-password'
    const decomposed = 'cafe\u0301-password'
    expect(await verifyPassword(decomposed, await hashPassword(composed))).toBe(true)
  })

  it('keeps the dummy hash at the current parameters, so unknown logins cost a real verification', () => {
    const dummy = parseArgon2Hash(DUMMY_HASH)
    expect(dummy).toMatchObject({
      memorySize: ARGON2_PARAMS.memorySize,
      iterations: ARGON2_PARAMS.iterations,
      parallelism: ARGON2_PARAMS.parallelism,
    })
    expect(dummy?.hash.length).toBe(ARGON2_PARAMS.hashLength)
  })

  it('refuses stored hashes that would ask for absurd cost', () => {
    expect(
      parseArgon2Hash('$argon2id$v=19$m=4194304,t=2,p=1$01GSMRpLrr14aHtwRxGe/A$SZnaO6nAPGhuWwp8t8hppjTYTc72L+sCfZCiNRxYM4c'),
    ).toBeUndefined()
    expect(
      parseArgon2Hash('$argon2id$v=19$m=19456,t=999,p=1$01GSMRpLrr14aHtwRxGe/A$SZnaO6nAPGhuWwp8t8hppjTYTc72L+sCfZCiNRxYM4c'),
    ).toBeUndefined()
  })

  it('asks for a rehash only when the stored parameters differ from ARGON2_PARAMS (or cannot be read)', async () => {
    expect(needsRehash(await hashPassword('securepassword123'))).toBe(false)
    expect(needsRehash(DUMMY_HASH)).toBe(false)
    const formerDefault = '$argon2id$v=19$m=19456,t=2,p=1$01GSMRpLrr14aHtwRxGe/A$SZnaO6nAPGhuWwp8t8hppjTYTc72L+sCfZCiNRxYM4c'
    expect(needsRehash(formerDefault)).toBe(true)
    expect(needsRehash(formerDefault.replace('m=19456,t=2,p=1', 'm=7168,t=5,p=2'))).toBe(true)
    expect(needsRehash('not-a-hash')).toBe(true)
  })

  it('verifies hashes made with other Argon2id parameters (older rows keep working)', async () => {
    const older = await argon2id({
      password: 'older-password',
      salt: new Uint8Array(16).fill(7),
      memorySize: 12288,
      iterations: 3,
      parallelism: 1,
      hashLength: 32,
      outputType: 'encoded',
    })
    expect(await verifyPassword('older-password', older)).toBe(true)
  })

  it('writes the PHC string hash-wasm’s argon2id() writes (outputType encoded) for the same password and salt', async () => {
    const phc = await hashPassword('securepassword123')
    const { salt } = parseArgon2Hash(phc)!
    const { saltLength: _, ...params } = ARGON2_PARAMS
    expect(phc).toBe(await argon2id({ ...params, password: 'securepassword123', salt, outputType: 'encoded' }))
  })

  it('makes hashes the reference implementation (@node-rs/argon2) verifies, and verifies the ones it makes', async () => {
    const ours = await hashPassword('interoperable-password')
    expect(await nativeVerify(ours, 'interoperable-password')).toBe(true)
    expect(await nativeVerify(ours, 'interoperable-passworD')).toBe(false)
    const theirs = await nativeHash('interoperable-password', {
      algorithm: 2, // Algorithm.Argon2id (a const enum: not importable with isolatedModules)
      memoryCost: ARGON2_PARAMS.memorySize,
      timeCost: ARGON2_PARAMS.iterations,
      parallelism: ARGON2_PARAMS.parallelism,
      outputLen: ARGON2_PARAMS.hashLength,
    })
    expect(needsRehash(theirs)).toBe(false)
    expect(await verifyPassword('interoperable-password', theirs)).toBe(true)
    expect(await verifyPassword('interoperable-passworD', theirs)).toBe(false)
  })

  it('hashes and verifies at ARGON2_PARAMS, unknown logins included, one Argon2 computation each on one reused instance; other parameters on one of their own', async () => {
    await hashPassword('warm-up') // the shared instance exists from here on
    const current = await hashPassword('securepassword123')
    const atCurrent = await argon2During(async () => [
      await verifyPassword('securepassword123', current),
      await verifyPassword('wrong-password', current),
      // An unknown login and an unreadable hash (the dummy verification), and an empty password: full verifications too.
      await verifyPassword('securepassword123', null),
      await verifyPassword('securepassword123', 'not-a-hash'),
      await verifyPassword('', current),
      await hashPassword('securepassword456'),
    ])
    expect(atCurrent.result.slice(0, 5)).toEqual([true, false, false, false, false])
    expect(atCurrent.computations).toBe(6)
    expect(atCurrent.instances).toEqual([])

    // Stored hashes with other parameters, as hash-wasm's argon2id() makes them.
    const { memorySize, iterations } = ARGON2_PARAMS
    const made = (salt: number, parallelism: number, hashLength: number) =>
      argon2id({
        password: 'securepassword123',
        salt: new Uint8Array(16).fill(salt),
        memorySize,
        iterations,
        parallelism,
        hashLength,
        outputType: 'encoded',
      })
    const longerHash = await made(5, 1, 64)
    const twoLanes = await made(6, 2, 32)
    const atOthers = await argon2During(async () => [
      await verifyPassword('securepassword123', longerHash),
      await verifyPassword('securepassword123', twoLanes),
      await verifyPassword('wrong-password', twoLanes),
    ])
    expect(atOthers.result).toEqual([true, true, false])
    expect(atOthers.computations).toBe(3)
    expect(atOthers.instances.map((options) => [options.hashLength, options.parallelism])).toEqual([
      [64, 1],
      [32, 2],
      [32, 2],
    ])
  })
})
