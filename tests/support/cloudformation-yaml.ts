/** CloudFormation templates written in YAML (infra/*.yml), read with their short-form intrinsic functions. */
import { type CollectionTag, parseDocument, type ScalarTag, type YAMLMap, type YAMLSeq } from 'yaml'

/** A template's JSON form. */
type Json = any

/** Short-form intrinsic functions: `!Name` on a scalar, a sequence or a map becomes `{ "Fn::Name": ... }`. */
const INTRINSICS = [
  'Base64',
  'Cidr',
  'FindInMap',
  'GetAZs',
  'ImportValue',
  'Join',
  'Select',
  'Split',
  'Sub',
  'If',
  'Equals',
  'Not',
  'And',
  'Or',
  'Transform',
]

function longForm(name: string, value: unknown): Json {
  if (name === 'Ref') return { Ref: value }
  if (name === 'Condition') return { Condition: value }
  if (name === 'GetAtt') {
    if (typeof value !== 'string') return { 'Fn::GetAtt': value }
    const dot = value.indexOf('.')
    return { 'Fn::GetAtt': [value.slice(0, dot), value.slice(dot + 1)] }
  }
  return { [`Fn::${name}`]: value }
}

const CUSTOM_TAGS: (ScalarTag | CollectionTag)[] = ['Ref', 'Condition', 'GetAtt', ...INTRINSICS].flatMap((name) => [
  { tag: `!${name}`, resolve: (value: string) => longForm(name, value) } as ScalarTag,
  { tag: `!${name}`, collection: 'seq', resolve: (seq: YAMLSeq) => longForm(name, seq.toJSON()) } as unknown as CollectionTag,
  { tag: `!${name}`, collection: 'map', resolve: (map: YAMLMap) => longForm(name, map.toJSON()) } as unknown as CollectionTag,
])

/** The template in its JSON form, and the YAML parser's errors and warnings (none for a well-formed one). */
export function readCloudFormationYaml(text: string): { template: Json; errors: string[] } {
  const doc = parseDocument(text, { customTags: CUSTOM_TAGS })
  return { template: doc.toJS(), errors: [...doc.errors, ...doc.warnings].map((error) => error.message) }
}

/** The template in its JSON form; throws on a YAML error. */
export function parseCloudFormationYaml(text: string): Json {
  const { template, errors } = readCloudFormationYaml(text)
  if (errors.length > 0) throw new Error(errors.join('\n'))
  return template
}
