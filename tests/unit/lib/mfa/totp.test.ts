import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { matchingStep, newTotpSecret, otpauthUri, totpStep } from '../../../../lib/mfa/totp.js'
import { decodeBase32, encodeBase32, referenceHotp, referenceStep, referenceTotp } from '../../../support/totp-reference.js'

const PROPERTY = { seed: 20_261_218, numRuns: 300 }
const PERIOD_MS = 30_000

/** RFC 6238's and RFC 4226's test secret: the 20 ASCII bytes "12345678901234567890". */
const RFC_SECRET = encodeBase32(Buffer.from('12345678901234567890', 'ascii'))

/** RFC 6238 Appendix B, SHA-1 rows: Unix time in seconds, the step T in hex, the 8-digit TOTP. */
const RFC_6238_SHA1 = [
  [59, '0000000000000001', '94287082'],
  [1111111109, '00000000023523EC', '07081804'],
  [1111111111, '00000000023523ED', '14050471'],
  [1234567890, '000000000273EF07', '89005924'],
  [2000000000, '0000000003F940AA', '69279037'],
  [20000000000, '0000000027BC86AA', '65353130'],
] as const

/** RFC 4226 Appendix D: the 6-digit HOTP values for counters 0 to 9. */
const RFC_4226 = ['755224', '287082', '359152', '969429', '338314', '254676', '287922', '162583', '399871', '520489']

/** A fixed secret and a time in the middle of a step, with the codes of the steps around it. */
const SECRET = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP'
const NOW = 1_766_000_015_000
const STEP = Math.floor(NOW / PERIOD_MS)
const codeAt = (step: number, secret = SECRET): string => referenceTotp(secret, step)

const secrets = fc.uint8Array({ minLength: 20, maxLength: 20 }).map((bytes) => encodeBase32(bytes))
// From the third step (two steps back exist) to the year 2100, to the millisecond.
const times = fc.integer({ min: 2 * PERIOD_MS, max: 4_102_444_800_000 })

describe('the reference TOTP (tests/support/totp-reference.ts, node:crypto HMAC only)', () => {
  it('computes RFC 6238 Appendix B’s SHA-1 codes (8 digits, ASCII secret "12345678901234567890") at their steps', () => {
    for (const [seconds, stepHex, code] of RFC_6238_SHA1) {
      const step = referenceStep(seconds * 1000)
      expect(step).toBe(Number.parseInt(stepHex, 16))
      expect(referenceTotp(RFC_SECRET, step, 8)).toBe(code)
    }
  })

  it('computes RFC 4226 Appendix D’s HOTP values for counters 0 to 9', () => {
    const key = Buffer.from('12345678901234567890', 'ascii')
    expect(RFC_4226.map((_, counter) => referenceHotp(key, counter))).toEqual(RFC_4226)
  })

  it('decodes RFC 4648 §10’s base32 test vectors, padded or not, in either case', () => {
    const vectors = [
      ['', ''],
      ['f', 'MY======'],
      ['fo', 'MZXQ===='],
      ['foo', 'MZXW6==='],
      ['foob', 'MZXW6YQ='],
      ['fooba', 'MZXW6YTB'],
      ['foobar', 'MZXW6YTBOI======'],
    ] as const
    for (const [text, encoded] of vectors) {
      expect(decodeBase32(encoded).toString('ascii')).toBe(text)
      expect(decodeBase32(encoded.replace(/=+$/, '').toLowerCase()).toString('ascii')).toBe(text)
      expect(encodeBase32(Buffer.from(text, 'ascii'))).toBe(encoded.replace(/=+$/, ''))
    }
    expect(() => decodeBase32('MZXW1===')).toThrow('not base32')
  })
})

describe('matchingStep', () => {
  it('accepts the last 6 digits of each RFC 6238 Appendix B SHA-1 code at its own time, answering its step', () => {
    for (const [seconds, stepHex, code] of RFC_6238_SHA1) {
      expect(matchingStep(RFC_SECRET, code.slice(2), seconds * 1000)).toBe(Number.parseInt(stepHex, 16))
    }
  })

  it('agrees with the reference implementation on random secrets and times: the current and previous steps’ codes', () => {
    fc.assert(
      fc.property(secrets, times, (secret, now) => {
        const step = referenceStep(now)
        expect(totpStep(now)).toBe(step)
        expect(matchingStep(secret, referenceTotp(secret, step), now)).toBe(step)
        const previous = referenceTotp(secret, step - 1)
        fc.pre(previous !== referenceTotp(secret, step)) // one chance in a million that the two steps share a code
        expect(matchingStep(secret, previous, now)).toBe(step - 1)
      }),
      PROPERTY,
    )
  })

  it('refuses, on random secrets and times, the next step’s code and the code from two steps back', () => {
    fc.assert(
      fc.property(secrets, times, (secret, now) => {
        const step = referenceStep(now)
        const valid = [referenceTotp(secret, step), referenceTotp(secret, step - 1)]
        for (const other of [referenceTotp(secret, step + 1), referenceTotp(secret, step - 2)]) {
          fc.pre(!valid.includes(other))
          expect(matchingStep(secret, other, now)).toBeUndefined()
        }
      }),
      PROPERTY,
    )
  })

  it('accepts a new secret’s codes as the reference computes them', () => {
    const secret = newTotpSecret()
    expect(matchingStep(secret, referenceTotp(secret, STEP), NOW)).toBe(STEP)
    expect(matchingStep(secret, referenceTotp(secret, STEP - 1), NOW)).toBe(STEP - 1)
  })

  it('accepts the current step’s code and the previous step’s, answering each one’s step', () => {
    expect(matchingStep(SECRET, codeAt(STEP), NOW)).toBe(STEP)
    expect(matchingStep(SECRET, codeAt(STEP - 1), NOW)).toBe(STEP - 1)
  })

  it('refuses the next step’s code, the code from two steps back, and a code of another secret', () => {
    const others = [codeAt(STEP + 1), codeAt(STEP - 2), codeAt(STEP, RFC_SECRET)]
    for (const code of others) expect([codeAt(STEP), codeAt(STEP - 1)]).not.toContain(code) // the fixture proves something
    for (const code of others) expect(matchingStep(SECRET, code, NOW)).toBeUndefined()
  })

  it('moves with the step boundary: a step’s code is refused its last millisecond before, accepted until the next step ends', () => {
    const start = STEP * PERIOD_MS
    expect(matchingStep(SECRET, codeAt(STEP), start - 1)).toBeUndefined()
    expect(matchingStep(SECRET, codeAt(STEP), start)).toBe(STEP)
    expect(matchingStep(SECRET, codeAt(STEP), start + 2 * PERIOD_MS - 1)).toBe(STEP)
    expect(matchingStep(SECRET, codeAt(STEP), start + 2 * PERIOD_MS)).toBeUndefined()
  })

  it('at step 0 accepts step 0’s code and looks at no step before it', () => {
    expect(matchingStep(SECRET, codeAt(0), 0)).toBe(0)
    expect(matchingStep(SECRET, codeAt(1), 0)).toBeUndefined()
  })

  it('refuses codes that are not exactly 6 ASCII digits before any HMAC (even with a secret that is not base32)', () => {
    const code = codeAt(STEP)
    const malformed = [
      '',
      code.slice(1),
      `${code}0`,
      `${code.slice(0, 5)}a`,
      ` ${code}`,
      `${code} `,
      `${code}\n`,
      `${code.slice(0, 3)} ${code.slice(3)}`,
      `+${code.slice(1)}`,
      `-${code.slice(1)}`,
      '１２３４５６', // fullwidth digits
      '١٢٣٤٥٦', // Arabic-Indic digits
      '12345e',
      '0x1234',
    ]
    for (const input of malformed) {
      expect(matchingStep(SECRET, input, NOW)).toBeUndefined()
      expect(matchingStep('not base32!', input, NOW)).toBeUndefined()
    }
  })

  it('throws on a stored secret that is not base32 rather than calling a well-formed code wrong', () => {
    expect(() => matchingStep('not base32!', '123456', NOW)).toThrow()
  })
})

describe('newTotpSecret', () => {
  it('is 20 random bytes in unpadded upper-case base32 (32 characters), a new one each time', () => {
    const made = Array.from({ length: 200 }, newTotpSecret)
    for (const secret of made) {
      expect(secret).toMatch(/^[A-Z2-7]{32}$/)
      expect(decodeBase32(secret)).toHaveLength(20)
    }
    expect(new Set(made).size).toBe(made.length)
  })
})

describe('otpauthUri', () => {
  it('names the issuer (label prefix and parameter), the secret, SHA1, 6 digits and a 30-second period', () => {
    const secret = newTotpSecret()
    const uri = new URL(otpauthUri({ secret, account: 'alice@example.com', issuer: 'Attune Auth' }))
    expect(uri.protocol).toBe('otpauth:')
    expect(uri.host).toBe('totp')
    expect(decodeURIComponent(uri.pathname)).toBe('/Attune Auth:alice@example.com')
    expect(Object.fromEntries(uri.searchParams)).toEqual({
      issuer: 'Attune Auth',
      secret,
      algorithm: 'SHA1',
      digits: '6',
      period: '30',
    })
  })

  it('percent-encodes an account or issuer with URI delimiters, so neither adds a parameter or splits the label', () => {
    const account = 'a:b?c&secret=X#d/e'
    const issuer = 'Acme & Co: Test'
    const uri = new URL(otpauthUri({ secret: SECRET, account, issuer }))
    expect(uri.hash).toBe('')
    expect(uri.pathname.slice(1).split(':').map(decodeURIComponent)).toEqual([issuer, account])
    expect([...uri.searchParams.keys()]).toEqual(['issuer', 'secret', 'algorithm', 'digits', 'period'])
    expect(uri.searchParams.get('issuer')).toBe(issuer)
    expect(uri.searchParams.get('secret')).toBe(SECRET)
  })

  it('refuses an empty issuer or account', () => {
    expect(() => otpauthUri({ secret: SECRET, account: 'alice', issuer: '' })).toThrow('issuer')
    expect(() => otpauthUri({ secret: SECRET, account: '', issuer: 'Attune Auth' })).toThrow('account')
  })
})
