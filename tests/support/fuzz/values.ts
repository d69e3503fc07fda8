/**
 * Field values for generated requests: plausible logins, passwords and display names, and the strings and wrong
 * types the schemas must cope with (odd characters, lone surrogates, control characters, lengths at every bound).
 * Most generated cases fail validation cheaply; roughly one in ten is well-formed, so the handlers' real paths
 * (Argon2, the database, token rotation) are exercised too.
 */
import fc from 'fast-check'

const UNUSUAL = [
  '\u200B',
  '\u200D',
  '\u202E',
  '\u2066',
  '\uFEFF',
  '\uFFFE',
  '\uFFFF',
  '\uFFFD',
  '\u0301',
  '\u0338',
  '\uFB01',
  '\u212B',
  '\u2126',
  '\u2028',
  '\u2029',
  '\u00A0',
  '\u3000',
  'İ',
  'ß',
  'ǅ',
  '𝕏',
  '👩‍👩‍👧',
  '🏳️‍🌈',
  '\u{10FFFF}',
  '\u{E0001}',
  '\u{1F600}',
  '\u0000',
  '\\',
  '"',
  "'",
  '%00',
  '${x}',
  '{{x}}',
  '<script>',
  "'; drop table attune.identity; --",
]

/** C0 and C1 controls and DEL, NUL most often: PostgreSQL text refuses it, so it is the one most likely to hurt. */
const controlChar = fc
  .oneof(
    { weight: 3, arbitrary: fc.constant(0) },
    { weight: 4, arbitrary: fc.integer({ min: 1, max: 0x1f }) },
    fc.constant(0x7f),
    fc.integer({ min: 0x80, max: 0x9f }),
  )
  .map((c) => String.fromCharCode(c))
const loneSurrogate = fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c))
const unusualChar = fc.constantFrom(...UNUSUAL)
/** One character of any kind: a grapheme, a byte, a control character, a lone surrogate, an unusual one. */
export const anyChar = fc.oneof(
  { weight: 4, arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) },
  { weight: 1, arbitrary: controlChar },
  { weight: 1, arbitrary: loneSurrogate },
  { weight: 2, arbitrary: unusualChar },
)

/** Lengths at and around every bound the API has (64, 128, 256, MAX_TOKEN_LENGTH, the 16 KB body), and far past them. */
const nearBound = fc.constantFrom(
  0,
  1,
  7,
  8,
  63,
  64,
  65,
  127,
  128,
  129,
  255,
  256,
  257,
  512,
  513,
  4096,
  4097,
  5500,
  8192,
  16_383,
  16_384,
  16_385,
  70_000,
  1 << 20,
)

/** A string the schemas must cope with: odd characters, lone surrogates, control characters, huge repeats. */
export const weirdString: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.string({ unit: anyChar, maxLength: 40 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 80 }) },
  { weight: 1, arbitrary: fc.constantFrom('', ' ', '   ', '\t', '\n', 'null', 'undefined', '0', 'true', '[]', '{}') },
  {
    weight: 2,
    arbitrary: fc
      .tuple(fc.constantFrom('x', 'é', 'e\u0301', '😀', '\u0000', '\uD800', ' ', 'ﬁ', '\u200B'), nearBound)
      .map(([c, n]) => c.repeat(n)),
  },
)

/** A value of the wrong type for a string field. */
export const wrongType: fc.Arbitrary<unknown> = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 }),
  fc.constant(Number.MAX_SAFE_INTEGER),
)

/** A field: usually a plausible value, otherwise a weird string, a wrong type or absent (`undefined` drops the key). */
export function field(plausible: fc.Arbitrary<unknown>, weights: { plausible?: number } = {}): fc.Arbitrary<unknown> {
  return fc.oneof(
    { weight: weights.plausible ?? 12, arbitrary: plausible },
    { weight: 5, arbitrary: weirdString },
    { weight: 2, arbitrary: wrongType },
    { weight: 1, arbitrary: fc.constant(undefined) },
  )
}

/** A suffix unique to this test process, so generated logins, roles and permissions meant to be new are new even on a reused database. */
export const RUN_TAG = `${Date.now().toString(36)}${process.pid.toString(36)}`

export const plausibleLogin = fc.oneof(
  { weight: 4, arbitrary: fc.stringMatching(/^[a-z][a-z0-9._-]{0,30}$/).map((s) => `${s}-${RUN_TAG}`) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 20 }).map((s) => `${s}~${RUN_TAG}`) },
  { weight: 1, arbitrary: fc.stringMatching(/^[A-Za-z0-9]{1,12}$/) },
)
export const plausiblePassword = fc.oneof(
  { weight: 3, arbitrary: fc.string({ unit: 'grapheme-ascii', minLength: 8, maxLength: 40 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', minLength: 8, maxLength: 30 }) },
)
export const plausibleDisplayName = fc.oneof(fc.constant(null), fc.string({ unit: 'grapheme', maxLength: 40 }))
