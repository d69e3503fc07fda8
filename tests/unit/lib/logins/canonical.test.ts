import { createRequire } from 'node:module'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { type CanonicalLogin, canonicalLogin, LOGIN_UNICODE_DATA } from '../../../../lib/logins/canonical.js'
import { loginSkeleton } from '../../../../lib/logins/skeleton.js'

const PROPERTY = { seed: 20_261_201, numRuns: 1_000 }

/** The key of an accepted login, and the skeleton of that key. */
function accepted(login: string): { key: string; skeleton: string } {
  const result = canonicalLogin(login)
  if (!result.ok) throw new Error(`expected ${JSON.stringify(login)} to be accepted, got ${result.message}`)
  return { key: result.key, skeleton: loginSkeleton(result.key) }
}

function refused(login: string): Extract<CanonicalLogin, { ok: false }> {
  const result = canonicalLogin(login)
  if (result.ok) throw new Error(`expected ${JSON.stringify(login)} to be refused`)
  return result
}

/** Same account: an equal key (the same login) or an equal skeleton (a look-alike of it): both are a 409. */
function clash(a: string, b: string): 'key' | 'skeleton' | 'none' {
  const [x, y] = [accepted(a), accepted(b)]
  if (x.key === y.key) return 'key'
  return x.skeleton === y.skeleton ? 'skeleton' : 'none'
}

describe('canonicalLogin: the look-alikes of the attack review', () => {
  it('gives fullwidth letters the key of their ASCII letters (width mapping)', () => {
    expect(clash('ａｌｉｃｅ', 'alice')).toBe('key')
    expect(clash('ＡＬＩＣＥ', 'alice')).toBe('key')
  })

  it('gives a Cyrillic а the skeleton of a Latin a, while its key stays its own', () => {
    expect(clash('\u0430lice', 'alice')).toBe('skeleton')
  })

  it('gives mathematical bold letters the skeleton of plain letters: UsernameCaseMapped has no NFKC, so not the key', () => {
    expect(clash('𝐚𝐥𝐢𝐜𝐞', 'alice')).toBe('skeleton')
    expect(clash('𝐛𝐨𝐛', 'BOB')).toBe('skeleton')
  })

  it.each([
    ['U+200B zero width space', '\u200B'],
    ['U+200C zero width non-joiner', '\u200C'],
    ['U+200D zero width joiner', '\u200D'],
    ['U+2060 word joiner', '\u2060'],
    ['U+00AD soft hyphen', '\u00AD'],
    ['U+FEFF zero width no-break space', '\uFEFF'],
    ['U+034F combining grapheme joiner', '\u034F'],
    ['U+FE0F variation selector 16', '\uFE0F'],
    ['U+3164 Hangul filler', '\u3164'],
    ['U+FFA0 halfwidth Hangul filler', '\uFFA0'],
    ['U+180E Mongolian vowel separator', '\u180E'],
    ['U+E0041 tag latin capital letter A', '\u{E0041}'],
  ])('refuses %s inside a login as an invisible character', (_name, invisible) => {
    const result = refused(`al${invisible}ice`)
    const codePoint = (invisible.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')
    expect(result).toEqual({
      ok: false,
      reason: 'default_ignorable',
      message: `login must not contain invisible characters (U+${codePoint})`,
    })
  })

  it.each([
    ['U+202E right-to-left override', '\u202E', 'U+202E'],
    ['U+200E left-to-right mark', '\u200E', 'U+200E'],
    ['U+2067 right-to-left isolate', '\u2067', 'U+2067'],
    ['U+061C Arabic letter mark', '\u061C', 'U+061C'],
  ])('refuses %s as a bidi control, though it is invisible too', (_name, control, codePoint) => {
    expect(refused(`al${control}ice`)).toEqual({
      ok: false,
      reason: 'bidi_control',
      message: `login must not contain bidirectional control characters (${codePoint})`,
    })
  })

  it('refuses every tag character, the invisible way to spell text after an emoji', () => {
    for (let codePoint = 0xe0020; codePoint <= 0xe007f; codePoint++) {
      expect(refused(`bob${String.fromCodePoint(codePoint)}`).reason).toBe('default_ignorable')
    }
    expect(refused('bob\u{E0001}').reason).toBe('default_ignorable')
  })

  it('gives ß and SS, ς and σ, ﬁ and fi the same key (full case folding)', () => {
    expect(clash('Straße', 'STRASSE')).toBe('key')
    expect(clash('ẞ', 'ss')).toBe('key')
    expect(clash('ὀδυσσεύς', 'ὈΔΥΣΣΕΎΣ')).toBe('key') // final ς and capital Σ both fold to σ
    expect(clash('ς', 'σ')).toBe('key')
    expect(clash('ﬁle', 'FILE')).toBe('key')
  })

  it('gives ı and i, ℌ and H the same skeleton: neither pair case folds together, both are confusables', () => {
    expect(clash('ı', 'i')).toBe('skeleton')
    expect(clash('bıll', 'bill')).toBe('skeleton')
    expect(clash('ℌ', 'H')).toBe('skeleton')
    expect(clash('ℌarry', 'harry')).toBe('skeleton') // ℌ → H is a capital: the skeleton is case folded again
  })
})

describe('canonicalLogin: what stays apart and what does not', () => {
  it('keeps ordinary distinct logins distinct in key and skeleton', () => {
    const logins = [
      'alice',
      'alicia',
      'bob',
      'rob',
      'bobby',
      'anna',
      'anne',
      'john smith',
      'john_smith',
      'john.smith',
      'zoë',
      'zoe',
      'josé',
      'jose',
    ]
    const results = logins.map(accepted)
    expect(new Set(results.map((r) => r.key)).size).toBe(logins.length)
    expect(new Set(results.map((r) => r.skeleton)).size).toBe(logins.length)
  })

  it('lets b0b clash with bob: UTS #39 maps 0 to O, and as logins ignore case, B0B beside BOB is a look-alike', () => {
    expect(accepted('b0b').skeleton).toBe('bob')
    expect(clash('b0b', 'bob')).toBe('skeleton')
  })

  it('lets the other ASCII confusables of UTS #39 clash too: 1 and l, rn and m', () => {
    expect(clash('a1ice', 'alice')).toBe('skeleton')
    expect(clash('rnary', 'mary')).toBe('skeleton')
  })

  it('keeps spaces, punctuation and symbols (no IdentifierClass repertoire)', () => {
    for (const login of ['John Smith', "o'brien", 'a.b-c_d', 'x+y@example.com', '★ star ★', '日本語', 'Ελένη', 'Борис']) {
      expect(canonicalLogin(login).ok).toBe(true)
    }
  })

  it('maps the ideographic space and halfwidth forms to their <wide>/<narrow> decomposition, not NFKC', () => {
    expect(accepted('a\u3000b').key).toBe('a b')
    expect(clash('ｶﾞ', 'ガ')).toBe('key') // halfwidth katakana and voiced mark, composed by NFC
    expect(accepted('\uFFA1').key).toBe('\u3131') // halfwidth Hangul kiyeok → ㄱ, where NFKC would go on to U+1100
  })

  it('folds case fully rather than lowercasing', () => {
    expect(accepted('İ').key).toBe('i\u0307')
    expect(accepted('\u212A').key).toBe('k') // KELVIN SIGN
    expect(accepted('ꭰ').key).toBe('Ꭰ') // Cherokee folds to its older, capital letters
  })

  it('gives canonically equivalent logins the same key', () => {
    expect(clash('e\u0301', 'é')).toBe('key')
    expect(clash('\u212B', 'Å')).toBe('key') // ANGSTROM SIGN
  })

  it('leaves a known gap: an uncased look-alike of capital I has the prototype l, while the folded key has i', () => {
    // 𝐀𝐋𝐈𝐂𝐄 (mathematical bold) reads as ALICE, which is alice; but 𝐈 → l (as I → l) and alice keeps its i.
    expect(accepted('𝐀𝐋𝐈𝐂𝐄').skeleton).toBe('allce')
    expect(clash('𝐀𝐋𝐈𝐂𝐄', 'alice')).toBe('none')
    expect(clash('𝐀𝐋𝐈𝐂𝐄', 'ALLCE')).toBe('skeleton')
  })
})

describe('canonicalLogin: refusals', () => {
  it('refuses unassigned code points, noncharacters included', () => {
    for (const unassigned of ['\u0378', '\uFDD0', '\uFFFF', '\u{10FFFF}', '\u{E0080}', '\u2065']) {
      const result = refused(`bob${unassigned}`)
      expect(result.reason).toBe('unassigned')
      expect(result.message).toMatch(/^login must not contain unassigned Unicode code points \(U\+[0-9A-F]{4,6}\)$/)
    }
  })

  it('refuses a lone surrogate as invalid Unicode', () => {
    expect(refused('bob\uD800').reason).toBe('invalid_unicode')
    expect(refused('\uDC00bob').reason).toBe('invalid_unicode')
  })

  it('names the first offending code point and never echoes the login', () => {
    const result = refused('my-secret-handle\u200B\u202E')
    expect(result.message).toBe('login must not contain invisible characters (U+200B)')
    expect(result.message).not.toContain('my-secret-handle')
  })
})

describe('canonicalLogin: stability', () => {
  const specials = [
    'ß',
    'ẞ',
    'İ',
    'ı',
    'ς',
    'Σ',
    '\u0345',
    'ΐ',
    'ᾳ',
    'ǰ',
    'ﬁ',
    'ﬃ',
    'Ａ',
    'ｶ',
    'ﾞ',
    'ﾡ',
    '\u3000',
    '\u0301',
    '\u0308',
    '\u0307',
    'ǅ',
    '\u212A',
    '\u212B',
    'ℌ',
    '𝐈',
    '0',
    '1',
    'I',
    'l',
    'm',
    'β',
    'а',
    'σ',
  ]
  const allowedCodePoint = (max: number) =>
    fc
      .integer({ min: 0, max })
      .map((codePoint) => String.fromCodePoint(codePoint))
      .filter((character) => canonicalLogin(character).ok)
  const logins = fc.string({
    unit: fc.oneof(fc.constantFrom(...specials), allowedCodePoint(0x7f), allowedCodePoint(0xffff), allowedCodePoint(0x10ffff)),
    minLength: 1,
    maxLength: 12,
  })

  it('is idempotent: a key is its own key, and has the same skeleton as the login it came from', () => {
    fc.assert(
      fc.property(logins, (login) => {
        const { key, skeleton } = accepted(login)
        const again = accepted(key)
        expect(again.key).toBe(key)
        expect(again.skeleton).toBe(skeleton)
        expect(accepted(skeleton).skeleton).toBe(skeleton)
      }),
      PROPERTY,
    )
  })

  it('is idempotent on every allowed code point alone', () => {
    let allowed = 0
    for (let codePoint = 0; codePoint <= 0x10ffff; codePoint++) {
      const result = canonicalLogin(String.fromCodePoint(codePoint))
      if (!result.ok) continue
      allowed++
      const again = accepted(result.key)
      if (again.key !== result.key || loginSkeleton(again.skeleton) !== again.skeleton)
        expect.fail(`U+${codePoint.toString(16)} is not stable`)
    }
    expect(allowed).toBeGreaterThan(250_000)
  })

  it('runs on an engine whose Unicode is not newer than the case-folding data', () => {
    // A newer engine would accept letters that the UCD 17.0.0 folding does not know: upgrade @unicode/unicode-* then.
    const [major = 0, minor = 0] = (process.versions['unicode'] ?? '0.0').split('.').map(Number)
    const [dataMajor = 0, dataMinor = 0] = LOGIN_UNICODE_DATA.caseFolding.split('.').map(Number)
    expect(major * 100 + minor).toBeLessThanOrEqual(dataMajor * 100 + dataMinor)
  })

  it('declares the confusables version that the installed unhomoglyph ships', () => {
    // unhomoglyph 1.0.6 ships confusables.txt 13.0.0 (its CHANGELOG). Upgrading it changes skeletons: bump
    // LOGIN_UNICODE_DATA.confusables and recompute the stored skeletons.
    const { version } = createRequire(import.meta.url)('unhomoglyph/package.json') as { version: string }
    expect({ version, confusables: LOGIN_UNICODE_DATA.confusables }).toEqual({ version: '1.0.6', confusables: '13.0.0' })
  })
})
