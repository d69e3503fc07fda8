/**
 * Generated request bodies: JSON objects with the route's fields (plus extra, duplicated or near-miss keys), any
 * JSON value, malformed or deeply nested text, no body; sent as text, base64, or base64 of invalid UTF-8.
 */
import fc from 'fast-check'
import { Ref, type Resolver, resolveRefs } from './refs.js'
import { anyChar, weirdString } from './values.js'

/** What a body carries before it is serialised: JSON object entries (duplicates allowed), any JSON value, or raw text. */
export type Payload =
  | { kind: 'entries'; entries: Array<[string, unknown]>; loneSurrogatesRaw: boolean }
  | { kind: 'json'; value: unknown }
  | { kind: 'text'; text: string }
  | { kind: 'none' }

export type Encoding =
  | { kind: 'text' }
  | { kind: 'base64' }
  /** base64 of the UTF-8 bytes with invalid sequences spliced in. */
  | { kind: 'base64-invalid-utf8'; at: number; bytes: number[] }
  /** isBase64Encoded with text that is not base64 at all. */
  | { kind: 'base64-flag-on-text' }

export interface GeneratedBody {
  payload: Payload
  encoding: Encoding
}

/** Entries for an object body: the route's fields, plus sometimes extra, duplicated or near-miss keys. */
export function shapedEntries(fields: Record<string, fc.Arbitrary<unknown>>): fc.Arbitrary<Array<[string, unknown]>> {
  return shapedEntriesOf(fc.record(fields), Object.keys(fields))
}

/** As shapedEntries, with the route's fields generated together (`known`; undefined drops a key), named `names`. */
function shapedEntriesOf(known: fc.Arbitrary<Record<string, unknown>>, names: string[]): fc.Arbitrary<Array<[string, unknown]>> {
  const key = fc.oneof(
    fc.string({ maxLength: 12 }),
    fc.constantFrom(
      '__proto__',
      'constructor',
      'prototype',
      'toString',
      ...names.map((k) => k.toUpperCase()),
      ...names.map((k) => ` ${k}`),
    ),
    // a known field again: a duplicate key (JSON.parse keeps the last)
    ...(names.length > 0 ? [fc.constantFrom(...names)] : []),
  )
  const extra = fc.array(fc.tuple(key, fc.oneof(fc.jsonValue({ maxDepth: 3 }), weirdString)), { maxLength: 3 })
  return fc.tuple(known, fc.oneof({ weight: 4, arbitrary: fc.constant([]) }, { weight: 1, arbitrary: extra })).map(([record, more]) => {
    const entries = Object.entries(record).filter(([, value]) => value !== undefined) as Array<[string, unknown]>
    return [...entries, ...more]
  })
}

const deepNesting: fc.Arbitrary<string> = fc
  .tuple(fc.constantFrom('array', 'object', 'field'), fc.integer({ min: 1, max: 20_000 }))
  .map(([shape, n]) =>
    shape === 'array'
      ? '['.repeat(n) + ']'.repeat(n)
      : shape === 'object'
        ? `${'{"a":'.repeat(n)}1${'}'.repeat(n)}`
        : `{"login":${'['.repeat(n)}"x"${']'.repeat(n)},"password":"securepassword123"}`,
  )

const malformedText: fc.Arbitrary<string> = fc.oneof(
  fc.string({ unit: anyChar, maxLength: 60 }),
  fc.constantFrom(
    '{',
    '}',
    '{"login": "a", }',
    "{'login': 'a'}",
    '{"login": NaN}',
    '\uFEFF{}',
    '{"login":"a"}{"b":1}',
    '{"login":"a\u0000b","password":"x"}',
    '{"login":"\\ud800","password":"securepassword123"}',
    '{"login":"\\u0000","password":"securepassword123"}',
    '1e999',
    '-',
    '"',
    'null',
    '[]',
    '[{}]',
    '"text"',
    'true',
    '0',
    'login=a&password=b',
    '<xml/>',
  ),
  fc.tuple(fc.jsonValue({ maxDepth: 3 }), fc.nat()).map(([value, cut]) => {
    const text = JSON.stringify(value) ?? ''
    return text.slice(0, text.length === 0 ? 0 : cut % text.length)
  }),
)

export function payload(fields: Record<string, fc.Arbitrary<unknown>>): fc.Arbitrary<Payload> {
  return payloadOf(shapedEntries(fields))
}

function payloadOf(entries: fc.Arbitrary<Array<[string, unknown]>>): fc.Arbitrary<Payload> {
  return fc.oneof(
    {
      weight: 14,
      arbitrary: fc
        .tuple(entries, fc.boolean())
        .map(([shaped, loneSurrogatesRaw]): Payload => ({ kind: 'entries', entries: shaped, loneSurrogatesRaw })),
    },
    { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 4 }).map((value): Payload => ({ kind: 'json', value })) },
    { weight: 1, arbitrary: deepNesting.map((text): Payload => ({ kind: 'text', text })) },
    { weight: 2, arbitrary: malformedText.map((text): Payload => ({ kind: 'text', text })) },
    { weight: 1, arbitrary: fc.constantFrom<Payload>({ kind: 'none' }, { kind: 'text', text: '' }) },
  )
}

/** Invalid UTF-8: stray continuation bytes, overlongs, encoded surrogates, truncated sequences, bytes never valid. */
const INVALID_UTF8 = [
  [0xff],
  [0xfe],
  [0x80],
  [0xc0, 0xaf],
  [0xe0, 0x80, 0xaf],
  [0xed, 0xa0, 0x80],
  [0xe2, 0x82],
  [0xf4, 0x90, 0x80, 0x80],
  [0xf8, 0x88, 0x80, 0x80, 0x80],
]

export const encoding: fc.Arbitrary<Encoding> = fc.oneof(
  { weight: 16, arbitrary: fc.constant<Encoding>({ kind: 'text' }) },
  { weight: 4, arbitrary: fc.constant<Encoding>({ kind: 'base64' }) },
  {
    weight: 2,
    arbitrary: fc
      .tuple(fc.nat(), fc.constantFrom(...INVALID_UTF8))
      .map(([at, bytes]): Encoding => ({ kind: 'base64-invalid-utf8', at, bytes })),
  },
  { weight: 1, arbitrary: fc.constant<Encoding>({ kind: 'base64-flag-on-text' }) },
)

export function body(fields: Record<string, fc.Arbitrary<unknown>>): fc.Arbitrary<GeneratedBody> {
  return fc.record({ payload: payload(fields), encoding })
}

/**
 * A body whose fields are generated together rather than each on its own: `known` answers them all at once (a
 * field undefined is left out), so a generator can make "exactly one of code and recovery_code" likely, as a
 * schema asks. `names`: the fields it may answer (for the near-miss keys).
 */
export function jointBody(names: string[], known: fc.Arbitrary<Record<string, unknown>>): fc.Arbitrary<GeneratedBody> {
  return fc.record({ payload: payloadOf(shapedEntriesOf(known, names)), encoding })
}

/** The body as API Gateway would deliver it: `event.body` and `event.isBase64Encoded`. */
export async function materializeBody(
  generated: GeneratedBody,
  resolve: Resolver,
): Promise<{ body: string | null; isBase64Encoded: boolean }> {
  const { payload: p, encoding: e } = generated
  if (p.kind === 'none') return { body: null, isBase64Encoded: e.kind !== 'text' }
  const values = await resolveRefs(p.kind === 'entries' ? p.entries : p.kind === 'json' ? p.value : undefined, resolve)
  const replacer = (_key: string, value: unknown): unknown => (value instanceof Ref ? values.get(value.name) : value)
  let text: string
  if (p.kind === 'text') text = p.text
  else if (p.kind === 'json') text = JSON.stringify(p.value, replacer) ?? 'null'
  else {
    text = `{${p.entries.map(([key, value]) => `${JSON.stringify(key)}:${JSON.stringify(value, replacer) ?? 'null'}`).join(',')}}`
    // JSON.stringify escapes lone surrogates (\udxxx); also send them raw, as a client might.
    if (p.loneSurrogatesRaw) text = text.replace(/\\u(d[89a-f][0-9a-f]{2})/gi, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)))
  }
  switch (e.kind) {
    case 'text':
      return { body: text, isBase64Encoded: false }
    case 'base64':
      return { body: Buffer.from(text, 'utf8').toString('base64'), isBase64Encoded: true }
    case 'base64-invalid-utf8': {
      const bytes = Buffer.from(text, 'utf8')
      const at = bytes.length === 0 ? 0 : e.at % (bytes.length + 1)
      return {
        body: Buffer.concat([bytes.subarray(0, at), Buffer.from(e.bytes), bytes.subarray(at)]).toString('base64'),
        isBase64Encoded: true,
      }
    }
    case 'base64-flag-on-text':
      return { body: text, isBase64Encoded: true }
  }
}
