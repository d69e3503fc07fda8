/**
 * Generated request headers: Content-Type (odd, duplicated, absent), User-Agent, extra headers, and the
 * Authorization header: the case's live tokens, tokens made to fail, junk, two of them.
 */
import fc from 'fast-check'
import { weirdString } from './values.js'

export interface GeneratedHeaders {
  /** API Gateway sends `headers: null` when a request has none. */
  none: boolean
  contentType: { names: string[]; values: Array<string | undefined> }
  userAgent: string | undefined
  extra: Array<[string, string]>
}

const JSON_TYPES = [
  'application/json',
  'application/json; charset=utf-8',
  'APPLICATION/JSON',
  'application/vnd.api+json',
  'application/json;charset=UTF-16',
]
const OTHER_TYPES = [
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/jsonx',
  'json',
  'application/',
  '',
  ' ',
  'application/xml',
  '*/*',
]

const contentTypeValue = fc.oneof(
  { weight: 14, arbitrary: fc.constant<string | undefined>('application/json') },
  { weight: 2, arbitrary: fc.constantFrom<string | undefined>(...JSON_TYPES) },
  { weight: 2, arbitrary: fc.constantFrom<string | undefined>(...OTHER_TYPES) },
  { weight: 1, arbitrary: weirdString.map((s): string | undefined => s.slice(0, 200)) },
  { weight: 2, arbitrary: fc.constant<string | undefined>(undefined) },
)

export const headers: fc.Arbitrary<GeneratedHeaders> = fc.record({
  none: fc.oneof({ weight: 30, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
  contentType: fc.oneof(
    {
      weight: 8,
      arbitrary: fc
        .tuple(fc.constantFrom('Content-Type', 'content-type', 'CONTENT-TYPE'), contentTypeValue)
        .map(([n, v]) => ({ names: [n], values: [v] })),
    },
    // the same header twice, in two letter cases, with different values
    {
      weight: 1,
      arbitrary: fc
        .tuple(contentTypeValue, contentTypeValue)
        .map(([a, b]) => ({ names: ['Content-Type', 'content-type'], values: [a, b] })),
    },
  ),
  // Stored with every session that register and login open: hostile values matter here most.
  userAgent: fc.oneof({ weight: 4, arbitrary: fc.constant(undefined) }, { weight: 2, arbitrary: weirdString }),
  extra: fc.oneof(
    { weight: 6, arbitrary: fc.constant<Array<[string, string]>>([]) },
    {
      weight: 1,
      arbitrary: fc.array(
        fc.tuple(
          fc.oneof(
            fc.string({ minLength: 1, maxLength: 20 }),
            fc.constantFrom(
              'X-Forwarded-For',
              'Host',
              'Content-Length',
              'Transfer-Encoding',
              'Accept',
              '__proto__',
              'constructor',
              'toString',
              'user-agent',
            ),
          ),
          weirdString,
        ),
        { maxLength: 3 },
      ),
    },
  ),
})

// --- Authorization ---------------------------------------------------------------------------------------

/** Which token goes after `Bearer`: the case's live tokens, tokens made to fail, or junk. */
export type TokenChoice =
  | { kind: 'access' }
  | { kind: 'refresh' }
  | { kind: 'ended-session' }
  | { kind: 'expired' }
  | { kind: 'other-secret' }
  | { kind: 'alg-none' }
  | { kind: 'tampered'; part: 0 | 1 | 2; at: number }
  | { kind: 'truncated'; at: number }
  | { kind: 'junk'; value: string }

export type AuthChoice =
  | { kind: 'absent' }
  | { kind: 'bearer'; scheme: string; gap: string; trail: string; token: TokenChoice }
  | { kind: 'literal'; value: string }
  /** `Authorization` and `authorization` both present. */
  | { kind: 'two-headers'; first: TokenChoice; second: TokenChoice }
  /** Two credentials in one header, as a proxy merging duplicates would send them. */
  | { kind: 'comma-joined'; first: TokenChoice; second: TokenChoice }

const tokenChoice: fc.Arbitrary<TokenChoice> = fc.oneof(
  { weight: 20, arbitrary: fc.constant<TokenChoice>({ kind: 'access' }) },
  {
    weight: 1,
    arbitrary: fc.constantFrom<TokenChoice>(
      { kind: 'refresh' },
      { kind: 'ended-session' },
      { kind: 'expired' },
      { kind: 'other-secret' },
      { kind: 'alg-none' },
    ),
  },
  {
    weight: 1,
    arbitrary: fc.tuple(fc.constantFrom<0 | 1 | 2>(0, 1, 2), fc.nat()).map(([part, at]): TokenChoice => ({ kind: 'tampered', part, at })),
  },
  { weight: 1, arbitrary: fc.nat().map((at): TokenChoice => ({ kind: 'truncated', at })) },
  { weight: 1, arbitrary: weirdString.map((value): TokenChoice => ({ kind: 'junk', value })) },
)

export const authorization: fc.Arbitrary<AuthChoice> = fc.oneof(
  {
    weight: 20,
    arbitrary: fc
      .record({
        scheme: fc.oneof(
          { weight: 30, arbitrary: fc.constant('Bearer') },
          { weight: 1, arbitrary: fc.constantFrom('bearer', 'BEARER', 'Basic', 'Token', 'JWT', 'Bearer:', 'Bearer\u0000', '') },
        ),
        gap: fc.oneof(
          { weight: 30, arbitrary: fc.constant(' ') },
          { weight: 1, arbitrary: fc.constantFrom('', '  ', '\t', '\u00A0', '\n') },
        ),
        trail: fc.oneof(
          { weight: 30, arbitrary: fc.constant('') },
          { weight: 1, arbitrary: fc.constantFrom(' ', '\t', ',', ' x', '\u0000') },
        ),
        token: tokenChoice,
      })
      .map((r): AuthChoice => ({ kind: 'bearer', ...r })),
  },
  { weight: 2, arbitrary: fc.constant<AuthChoice>({ kind: 'absent' }) },
  { weight: 2, arbitrary: weirdString.map((value): AuthChoice => ({ kind: 'literal', value })) },
  {
    weight: 1,
    arbitrary: fc.tuple(tokenChoice, tokenChoice).map(([first, second]): AuthChoice => ({ kind: 'two-headers', first, second })),
  },
  {
    weight: 1,
    arbitrary: fc.tuple(tokenChoice, tokenChoice).map(([first, second]): AuthChoice => ({ kind: 'comma-joined', first, second })),
  },
)
