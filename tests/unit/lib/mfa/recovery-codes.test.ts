import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { newRecoveryCodes, normalizeRecoveryCode, RECOVERY_CODE_ALPHABET, RECOVERY_CODE_BITS } from '../../../../lib/mfa/recovery-codes.js'

const PROPERTY = { seed: 20_261_218, numRuns: 500 }
const FORMAT = /^[0-9a-hjkmnp-tv-z]{5}-[0-9a-hjkmnp-tv-z]{5}$/

describe('newRecoveryCodes', () => {
  it('makes 10 distinct codes by default, each xxxxx-xxxxx in lowercase Crockford base32', () => {
    const codes = newRecoveryCodes()
    expect(codes).toHaveLength(10)
    expect(new Set(codes).size).toBe(10)
    for (const code of codes) expect(code).toMatch(FORMAT)
  })

  it('uses an alphabet of 32 symbols without look-alikes (no i, l, o, u), so each code carries at least 50 bits', () => {
    expect(RECOVERY_CODE_ALPHABET).toHaveLength(32)
    expect(new Set(RECOVERY_CODE_ALPHABET).size).toBe(32)
    expect(RECOVERY_CODE_ALPHABET).toMatch(/^[0-9a-z]+$/)
    for (const lookAlike of 'ilou') expect(RECOVERY_CODE_ALPHABET).not.toContain(lookAlike)
    expect(RECOVERY_CODE_BITS).toBeGreaterThanOrEqual(50)
    expect(RECOVERY_CODE_BITS).toBe(10 * Math.log2(RECOVERY_CODE_ALPHABET.length))
  })

  it('draws every symbol at every position (2,000 codes: a missing one has odds below 1 in 10^26)', () => {
    const codes = Array.from({ length: 200 }, () => newRecoveryCodes()).flat()
    expect(new Set(codes).size).toBe(codes.length)
    const compact = codes.map((code) => code.replace('-', ''))
    for (let position = 0; position < 10; position++) {
      expect(new Set(compact.map((code) => code[position])).size, `position ${position}`).toBe(32)
    }
  })

  it('makes as many codes as asked, and refuses a count that is not a whole number from 1 to 100', () => {
    expect(newRecoveryCodes(1)).toHaveLength(1)
    expect(newRecoveryCodes(16)).toHaveLength(16)
    for (const count of [0, -1, 1.5, 101, Number.NaN]) expect(() => newRecoveryCodes(count)).toThrow(RangeError)
  })
})

describe('normalizeRecoveryCode', () => {
  it('answers an issued code as it was issued', () => {
    for (const code of newRecoveryCodes()) expect(normalizeRecoveryCode(code)).toBe(code)
  })

  it('reads upper case, surrounding and inner spaces, tabs and missing or extra hyphens as the code', () => {
    const inputs = [
      'ABCDE-FGHJK',
      '  abcde-fghjk\n',
      'abcdefghjk',
      'abcde fghjk',
      'ab cde\tfg hjk',
      'a-b-c-d-e-f-g-h-j-k',
      '--abcde--fghjk--',
    ]
    for (const input of inputs) expect(normalizeRecoveryCode(input), JSON.stringify(input)).toBe('abcde-fghjk')
  })

  it('reads the Crockford look-alikes: o and O as 0, i, I, l and L as 1', () => {
    expect(normalizeRecoveryCode('oOiIl-L0011')).toBe('00111-10011')
    expect(normalizeRecoveryCode('Q0LO1 ZZIZZ')).toBe('q0101-zz1zz')
  })

  it('reads any mix of spacing, case and look-alikes of a possible code as that code', () => {
    const lookAlikes: Record<string, string[]> = { '0': ['0', 'o', 'O'], '1': ['1', 'i', 'I', 'l', 'L'] }
    const issued = fc
      .array(fc.constantFrom(...RECOVERY_CODE_ALPHABET), { minLength: 10, maxLength: 10 })
      .map((symbols) => `${symbols.slice(0, 5).join('')}-${symbols.slice(5).join('')}`)
    const seeds = fc.array(fc.nat(), { minLength: 10, maxLength: 10 })
    fc.assert(
      fc.property(issued, seeds, fc.constantFrom('', ' ', '-', ' - ', '  '), (code, picks, separator) => {
        const typed = [...code.replace('-', '')]
          .map((symbol, index) => {
            const spellings = lookAlikes[symbol] ?? [symbol, symbol.toUpperCase()]
            return spellings[picks[index]! % spellings.length]
          })
          .join('')
        expect(normalizeRecoveryCode(` ${typed.slice(0, 5)}${separator}${typed.slice(5)} `)).toBe(code)
      }),
      PROPERTY,
    )
  })

  it('refuses what cannot be a code: wrong length, u, other characters, other dashes, Unicode look-alikes, long input', () => {
    const refused = [
      '',
      '   ',
      '-',
      'abcde-fghj',
      'abcde-fghjkm',
      'abcde-fghju',
      'abcde_fghjk',
      'abcde.fghjk',
      'abcde-fghj!',
      'abcde–fghjk', // en dash
      'аbcde-fghjk', // Cyrillic а
      'ａbcde-fghjk', // fullwidth a
      'abcde-fghjk'.repeat(2),
      `abcde${' '.repeat(60)}fghjk`,
    ]
    for (const input of refused) expect(normalizeRecoveryCode(input), JSON.stringify(input)).toBeUndefined()
  })

  it('accepts exactly the alphabet and its look-alikes, whatever the case, in every position', () => {
    const accepted = new Set([...RECOVERY_CODE_ALPHABET, ...RECOVERY_CODE_ALPHABET.toUpperCase(), 'o', 'O', 'i', 'I', 'l', 'L', ' ', '-'])
    for (let code = 0x21; code < 0x7f; code++) {
      const character = String.fromCharCode(code)
      if (character === '-') continue
      for (const position of [0, 4, 5, 9]) {
        const symbols = [...'0000000000']
        symbols[position] = character
        const input = symbols.join('')
        expect(normalizeRecoveryCode(input) !== undefined, JSON.stringify(input)).toBe(accepted.has(character))
      }
    }
  })
})
