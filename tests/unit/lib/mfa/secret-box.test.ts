import { randomBytes } from 'node:crypto'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { openSecret, parseMfaKeys, SecretBoxError, type SecretBoxKeyring, sealSecret } from '../../../../lib/mfa/secret-box.js'

const PROPERTY = { seed: 20_261_218, numRuns: 300 }
const SECRET = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP'
const AD = 'mfa-factor:42'

const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'

const newKey = (): Buffer => randomBytes(32)
const keyring = (current: [string, Buffer], ...older: [string, Buffer][]): SecretBoxKeyring => ({
  current: { id: current[0], key: current[1] },
  keys: new Map([current, ...older]),
})

/** What opening does: the plaintext, or the SecretBoxError's reason (anything else is rethrown). */
const outcome = (ring: SecretBoxKeyring, sealed: string, ad = AD): string => {
  try {
    return `opened:${openSecret(ring, sealed, ad)}`
  } catch (error) {
    if (error instanceof SecretBoxError) return error.reason
    throw error
  }
}

/** The sealed string with one bit of one of its base64url parts (2 = IV, 3 = ciphertext, 4 = tag) flipped. */
const flipBit = (sealed: string, part: 2 | 3 | 4, bit: number): string => {
  const parts = sealed.split('.')
  const bytes = Buffer.from(parts[part]!, 'base64url')
  bytes[Math.floor(bit / 8) % bytes.length]! ^= 1 << (bit % 8)
  parts[part] = bytes.toString('base64url')
  return parts.join('.')
}

describe('sealSecret and openSecret', () => {
  it('round-trip a secret, as v1.<keyId>.<12-byte IV>.<ciphertext>.<16-byte tag>, a fresh IV each time', () => {
    const ring = keyring(['k1', newKey()])
    const sealed = sealSecret(ring, SECRET, AD)
    expect(sealed).toMatch(/^v1\.k1\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{22}$/)
    const [, , iv, ciphertext, tag] = sealed.split('.')
    expect(Buffer.from(iv!, 'base64url')).toHaveLength(12)
    expect(Buffer.from(ciphertext!, 'base64url')).toHaveLength(SECRET.length)
    expect(Buffer.from(tag!, 'base64url')).toHaveLength(16)
    expect(sealed).not.toContain(SECRET)
    expect(openSecret(ring, sealed, AD)).toBe(SECRET)
    const again = sealSecret(ring, SECRET, AD)
    expect(again.split('.')[2]).not.toBe(iv)
    expect(openSecret(ring, again, AD)).toBe(SECRET)
  })

  it('round-trip any text with any associated data', () => {
    const ring = keyring(['k1', newKey()])
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 200 }), fc.string({ unit: 'grapheme' }), (plaintext, ad) => {
        expect(openSecret(ring, sealSecret(ring, plaintext, ad), ad)).toBe(plaintext)
      }),
      PROPERTY,
    )
  })

  it('keep opening what an older key sealed after a new current key, which seals from then on', () => {
    const k1 = newKey()
    const before = keyring(['k1', k1])
    const old = sealSecret(before, SECRET, AD)
    const after = keyring(['k2', newKey()], ['k1', k1])
    expect(openSecret(after, old, AD)).toBe(SECRET)
    const fresh = sealSecret(after, SECRET, AD)
    expect(fresh).toMatch(/^v1\.k2\./)
    expect(openSecret(after, fresh, AD)).toBe(SECRET)
    expect(outcome(before, fresh)).toBe('unknown-key')
  })

  it('find the current key even when the map of keys leaves it out', () => {
    const ring: SecretBoxKeyring = { current: { id: 'k1', key: newKey() }, keys: new Map() }
    expect(openSecret(ring, sealSecret(ring, SECRET, AD), AD)).toBe(SECRET)
  })

  it('refuse (unknown-key) a key id the keyring no longer has', () => {
    const k1 = newKey()
    const sealed = sealSecret(keyring(['k1', k1]), SECRET, AD)
    expect(outcome(keyring(['k2', newKey()]), sealed)).toBe('unknown-key')
  })

  it('refuse (unauthentic) other associated data: a sealed secret copied to another owner does not open', () => {
    const ring = keyring(['k1', newKey()])
    const sealed = sealSecret(ring, SECRET, AD)
    for (const ad of ['mfa-factor:43', 'mfa-factor:4', `${AD} `, '']) expect(outcome(ring, sealed, ad)).toBe('unauthentic')
  })

  it('refuse (unauthentic) any flipped bit of the IV, the ciphertext or the tag', () => {
    const ring = keyring(['k1', newKey()])
    const sealed = sealSecret(ring, SECRET, AD)
    for (const part of [2, 3, 4] as const) {
      const bits = Buffer.from(sealed.split('.')[part]!, 'base64url').length * 8
      for (let bit = 0; bit < bits; bit++) expect(outcome(ring, flipBit(sealed, part, bit))).toBe('unauthentic')
    }
  })

  it('refuse (unauthentic) a sealed secret relabelled with another key id of the keyring', () => {
    const ring = keyring(['k2', newKey()], ['k1', newKey()])
    const sealed = sealSecret(ring, SECRET, AD)
    expect(outcome(ring, sealed.replace(/^v1\.k2\./, 'v1.k1.'))).toBe('unauthentic')
  })

  it('refuse (unauthentic) a sealed secret relabelled with a key id whose key is the same bytes (the header is authenticated)', () => {
    const key = newKey()
    const ring = keyring(['k2', key], ['k1', key])
    const sealed = sealSecret(ring, SECRET, AD)
    expect(outcome(ring, sealed.replace(/^v1\.k2\./, 'v1.k1.'))).toBe('unauthentic')
  })

  it('refuse (malformed) what is not a v1 sealed secret: parts, version, key id, encodings, IV and tag lengths', () => {
    const ring = keyring(['k1', newKey()])
    const sealed = sealSecret(ring, SECRET, AD)
    const [v, id, iv, ciphertext, tag] = sealed.split('.') as [string, string, string, string, string]
    const shortTag = Buffer.from(tag, 'base64url').subarray(0, 12).toString('base64url')
    const shortIv = Buffer.from(iv, 'base64url').subarray(0, 8).toString('base64url')
    // The tag is 16 bytes: its last base64url character carries 2 bits and 4 zero bits; setting one is not canonical.
    const nonCanonicalTag = tag.slice(0, -1) + BASE64URL[BASE64URL.indexOf(tag.at(-1)!) | 1]
    const malformed = [
      '',
      SECRET,
      `${sealed}.`,
      [v, id, iv, ciphertext].join('.'),
      ['v2', id, iv, ciphertext, tag].join('.'),
      ['V1', id, iv, ciphertext, tag].join('.'),
      [v, '', iv, ciphertext, tag].join('.'),
      [v, 'k 1', iv, ciphertext, tag].join('.'),
      [v, id, shortIv, ciphertext, tag].join('.'),
      [v, id, iv, ciphertext, shortTag].join('.'),
      [v, id, iv, ciphertext, ''].join('.'),
      [v, id, `${iv}==`, ciphertext, tag].join('.'),
      [v, id, iv, ciphertext.replace(/[A-Za-z]/, '+'), tag].join('.'),
      [v, id, iv, `${ciphertext}!`, tag].join('.'),
      [v, id, iv, ciphertext, nonCanonicalTag].join('.'),
    ]
    for (const text of malformed) expect([text, outcome(ring, text)]).toEqual([text, 'malformed'])
  })

  it('never open a sealed secret with one character changed', () => {
    const ring = keyring(['k2', newKey()], ['k1', newKey()])
    const sealed = sealSecret(ring, SECRET, AD)
    const characters = fc.constantFrom(...'ABCXYZabcxyz0189-_.+/= '.split(''))
    fc.assert(
      fc.property(fc.nat({ max: sealed.length - 1 }), characters, (index, character) => {
        fc.pre(sealed[index] !== character)
        const changed = sealed.slice(0, index) + character + sealed.slice(index + 1)
        expect(outcome(ring, changed)).not.toMatch(/^opened:/)
      }),
      PROPERTY,
    )
  })

  it('refuse to seal with a key that is not 32 bytes or an id that could not be read back', () => {
    expect(() => sealSecret(keyring(['k1', randomBytes(16)]), SECRET, AD)).toThrow('32 bytes')
    expect(() => sealSecret(keyring(['k.1', newKey()]), SECRET, AD)).toThrow('key id')
  })

  it('throw errors that are SecretBoxError, named so, with a reason', () => {
    let error: unknown
    try {
      openSecret(keyring(['k1', newKey()]), sealSecret(keyring(['k1', newKey()]), SECRET, AD), AD)
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(SecretBoxError)
    expect(error).toBeInstanceOf(Error)
    expect(error).toMatchObject({ name: 'SecretBoxError', reason: 'unauthentic' })
  })
})

describe('parseMfaKeys', () => {
  const k2 = newKey()
  const k1 = newKey()
  const b64 = (key: Buffer): string => key.toString('base64')

  it('reads id:base64 entries, the first one current, every one in keys', () => {
    const ring = parseMfaKeys(`k2:${b64(k2)},k1:${b64(k1)}`)
    expect(ring.current.id).toBe('k2')
    expect(ring.current.key.equals(k2)).toBe(true)
    expect([...ring.keys.keys()]).toEqual(['k2', 'k1'])
    expect(ring.keys.get('k1')?.equals(k1)).toBe(true)
  })

  it('reads a single key, spaces around entries and keys without padding; ids may use _ and - up to 32 characters', () => {
    const id = `${'A_-z9'.repeat(6)}xy`
    const ring = parseMfaKeys(`  ${id}:${b64(k2).replace(/=+$/, '')} ,\tk1:${b64(k1)}\n`)
    expect(ring.current.id).toBe(id)
    expect(ring.keys.get('k1')?.equals(k1)).toBe(true)
    expect(parseMfaKeys(`solo:${b64(k1)}`).keys.size).toBe(1)
  })

  it('keys sealed under a parsed keyring open under the next one, after rotation', () => {
    const before = parseMfaKeys(`k1:${b64(k1)}`)
    const sealed = sealSecret(before, SECRET, AD)
    expect(openSecret(parseMfaKeys(`k2:${b64(k2)},k1:${b64(k1)}`), sealed, AD)).toBe(SECRET)
  })

  it('refuses empty values and entries, missing ids, bad ids, duplicate ids, bad base64 and keys not 32 bytes, saying which', () => {
    const cases: [string, string | RegExp][] = [
      ['', 'none given'],
      ['  ', 'none given'],
      [`k1:${b64(k1)},`, 'entry 2 is empty'],
      [`,k1:${b64(k1)}`, 'entry 1 is empty'],
      [b64(k1), 'entry 1 has no id'],
      [`:${b64(k1)}`, 'entry 1: the id must be'],
      [`k.1:${b64(k1)}`, 'entry 1: the id must be'],
      [`${'k'.repeat(33)}:${b64(k1)}`, 'entry 1: the id must be'],
      [`${b64(k1)}:k1`, 'entry 1: the id must be'],
      [`k1:${b64(k1)},k1:${b64(k2)}`, 'entry 2: the id k1 appears more than once'],
      [`k1:${b64(k1)},k2:${b64(k2).replace(/[A-Za-z]/, '!')}`, 'entry 2 (k2): the key is not base64'],
      [`k1:${b64(k1)},k2:${Buffer.alloc(32, 0xff).toString('base64url')}`, 'entry 2 (k2): the key is not base64'],
      [`k1:${k1.toString('hex')}`, 'entry 1 (k1): the key is 48 bytes, not 32'],
      [`k1:${b64(k1.subarray(0, 16))}`, 'entry 1 (k1): the key is 16 bytes, not 32'],
      [`k1:${b64(Buffer.concat([k1, k2]))}`, 'entry 1 (k1): the key is 64 bytes, not 32'],
      [`k1:`, 'entry 1 (k1): the key is not base64'],
    ]
    for (const [text, message] of cases) expect(() => parseMfaKeys(text), text).toThrow(message)
  })

  it('never puts key material in an error message', () => {
    const texts = [
      `${b64(k1)}:k1`,
      b64(k1),
      `k1:${b64(k1)},k1:${b64(k2)}`,
      `k1:${b64(k1).slice(0, 30)}`,
      `k1:${b64(k1)}!`,
      `k1:${b64(Buffer.concat([k1, k2]))}`,
    ]
    for (const text of texts) {
      let message = ''
      try {
        parseMfaKeys(text)
      } catch (error) {
        message = (error as Error).message
      }
      expect(message).not.toBe('')
      for (const key of [k1, k2]) {
        for (const encoded of [b64(key), key.toString('hex')]) expect(message).not.toContain(encoded.slice(0, 8))
      }
    }
  })
})
