/**
 * A property-level check of a CloudFormation template against AWS's resource specification as
 * @aws-cdk/aws-service-spec ships it (a @cdklabs/tskb database: `resource` entities by `cloudFormationType`,
 * each with `properties` (name → { type, required }) and `attributes`; nested property types are
 * `typeDefinition` entities), for machines without cfn-lint (issue 21). It checks, for every resource:
 * - `resource-key`: the resource's keys are `Type`, `Properties` and CloudFormation's resource attributes
 *   (`DependsOn`, `DeletionPolicy`, `UpdateReplacePolicy`, `Condition`, `Metadata`, `CreationPolicy`, `UpdatePolicy`);
 * - `unknown-type`: its type is in the specification, or is `Custom::*` / `AWS::CloudFormation::CustomResource`
 *   (whose properties are free, but for those the specification gives them: ServiceToken is required);
 * - `unknown-property` / `missing-required`: every property name is one of the type's, every required one is
 *   there; the same inside nested property types, lists of them and maps of them, at any depth;
 * - `wrong-type` / `allowed-value`: a literal value has the property's type: string, integer, number, boolean,
 *   list, map, JSON, a nested type or a tag; with CloudFormation's own conversions (a number or boolean where a
 *   string is expected, a numeric string for a number, "true"/"false" for a boolean), and the specification's
 *   enumerations where it has them. A value that is an intrinsic function (`{ Ref }`, `{ "Fn::...": ... }`,
 *   `{ Condition }`) matches any type, except `Fn::If`, whose two branches are checked as the value;
 * - `getatt-target` / `getatt-attribute`: every `Fn::GetAtt`, and every `${Name.Attribute}` of an `Fn::Sub`, in
 *   the resources and the outputs names a resource of the template, and an attribute of that resource's type
 *   (not checked for custom resources, whose attributes are theirs).
 * A property whose specification type is a union passes when the value matches any member.
 */
import type { PropertyType, Resource, ResourceProperties, SpecDatabase } from '@aws-cdk/service-spec-types'

export type { SpecDatabase }

export type Rule =
  | 'resource-key'
  | 'unknown-type'
  | 'unknown-property'
  | 'missing-required'
  | 'wrong-type'
  | 'allowed-value'
  | 'getatt-target'
  | 'getatt-attribute'

export interface Problem {
  /** The resource's logical id, or `Outputs.<name>` for a problem in an output. */
  resource: string
  /** Where in it: `Properties.VpcConfig.SubnetIds[0]`, `Type`, `Fn::GetAtt`... */
  path: string
  rule: Rule
  message: string
}

export interface Inspection {
  problems: Problem[]
  /** Resources checked (every resource of the template). */
  resources: number
  /** Property values checked against a specification type: properties, nested properties, list items, map values. */
  values: number
  /** Of those, the values that were intrinsic functions (other than Fn::If), so matched without a check. */
  intrinsic: number
  /** `Fn::GetAtt`s and `Fn::Sub` `${Name.Attribute}`s checked. */
  getAtts: number
}

type Json = unknown
interface TemplateLike {
  Resources?: Record<string, Json>
  Outputs?: Record<string, Json>
}

/** What a resource may hold besides Type and Properties. */
const RESOURCE_ATTRIBUTES = new Set([
  'DependsOn',
  'DeletionPolicy',
  'UpdateReplacePolicy',
  'Condition',
  'Metadata',
  'CreationPolicy',
  'UpdatePolicy',
])
const CUSTOM_RESOURCE = 'AWS::CloudFormation::CustomResource'
const isCustom = (type: string): boolean => type.startsWith('Custom::') || type === CUSTOM_RESOURCE

const isObject = (value: Json): value is Record<string, Json> => typeof value === 'object' && value !== null && !Array.isArray(value)

/** `{ Ref }`, `{ Condition }` or `{ "Fn::Name": ... }`: the one key of an object. */
export function intrinsicName(value: Json): string | undefined {
  if (!isObject(value)) return undefined
  const keys = Object.keys(value)
  if (keys.length !== 1) return undefined
  const key = keys[0] as string
  return key === 'Ref' || key === 'Condition' || key.startsWith('Fn::') ? key : undefined
}

/** The legacy `tag` type: `{ Key, Value }`, both strings, both required. */
const TAG_PROPERTIES: ResourceProperties = {
  Key: { type: { type: 'string' }, required: true },
  Value: { type: { type: 'string' }, required: true },
}

const describeValue = (value: Json): string => {
  const text = JSON.stringify(value) ?? String(value)
  return text.length > 60 ? `${text.slice(0, 57)}...` : text
}

const describeType = (type: PropertyType, db: SpecDatabase): string => {
  switch (type.type) {
    case 'array':
      return `list of ${describeType(type.element, db)}`
    case 'map':
      return `map of ${describeType(type.element, db)}`
    case 'union':
      return type.types.map((member) => describeType(member, db)).join(' | ')
    case 'ref':
      return db.get('typeDefinition', type.reference).name
    default:
      return type.type
  }
}

/** One walk's findings and counts; a union's members are tried in scratch copies, the best one merged. */
class Walk {
  problems: Problem[] = []
  values = 0
  intrinsic = 0

  constructor(
    readonly db: SpecDatabase,
    readonly resource: string,
  ) {}

  report(path: string, rule: Rule, message: string): void {
    this.problems.push({ resource: this.resource, path, rule, message })
  }

  /** The properties of an object value: names known, required ones present, each value of its type. */
  checkObject(value: Record<string, Json>, properties: ResourceProperties, path: string, open = false): void {
    for (const [name, child] of Object.entries(value)) {
      const property = properties[name]
      if (property === undefined) {
        if (!open) this.report(`${path}.${name}`, 'unknown-property', `${name} is not a property here`)
        continue
      }
      this.checkValue(child, property.type, `${path}.${name}`)
    }
    for (const [name, property] of Object.entries(properties)) {
      if (property.required && !(name in value)) this.report(`${path}.${name}`, 'missing-required', `required property ${name} is missing`)
    }
  }

  checkValue(value: Json, type: PropertyType, path: string): void {
    this.values += 1
    const intrinsic = intrinsicName(value)
    if (intrinsic !== undefined) {
      const branches = (value as Record<string, Json>)[intrinsic]
      if (intrinsic === 'Fn::If' && Array.isArray(branches) && branches.length === 3) {
        this.values -= 1 // the branches are the values
        this.checkValue(branches[1], type, `${path}(Fn::If true)`)
        this.checkValue(branches[2], type, `${path}(Fn::If false)`)
      } else {
        this.intrinsic += 1
      }
      return
    }
    if (type.type === 'union') {
      this.checkUnion(value, type.types, path)
      return
    }
    if (!this.hasShape(value, type)) {
      this.report(path, 'wrong-type', `${describeValue(value)} is not a ${describeType(type, this.db)}`)
      return
    }
    const allowed: readonly (string | number)[] | undefined = 'allowedValues' in type ? type.allowedValues : undefined
    const literal = type.type === 'integer' ? Number(value) : String(value)
    if (allowed !== undefined && !allowed.includes(literal)) {
      this.report(path, 'allowed-value', `${describeValue(value)} is not one of ${allowed.join(', ')}`)
    }
    if (type.type === 'tag' || type.type === 'ref') {
      const properties = type.type === 'tag' ? TAG_PROPERTIES : this.db.get('typeDefinition', type.reference).properties
      this.checkObject(value as Record<string, Json>, properties, path)
    } else if (type.type === 'array') {
      for (const [index, item] of (value as Json[]).entries()) this.checkValue(item, type.element, `${path}[${index}]`)
    } else if (type.type === 'map') {
      for (const [key, item] of Object.entries(value as Record<string, Json>)) this.checkValue(item, type.element, `${path}.${key}`)
    }
  }

  /** Whether a literal has the form of the type, with CloudFormation's conversions of scalars. */
  hasShape(value: Json, type: Exclude<PropertyType, { type: 'union' }>): boolean {
    switch (type.type) {
      case 'string':
      case 'date-time':
        // CloudFormation turns a number or a boolean into its string.
        return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean'
      case 'integer':
      case 'number': {
        const number = typeof value === 'string' && /^\s*-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$/.test(value) ? Number(value) : value
        return typeof number === 'number' && Number.isFinite(number) && (type.type === 'number' || Number.isInteger(number))
      }
      case 'boolean':
        return typeof value === 'boolean' || (typeof value === 'string' && /^(true|false)$/i.test(value))
      case 'json':
        // An object (a policy document, an event pattern...), or the same as a JSON string.
        return isObject(value) || Array.isArray(value) || typeof value === 'string'
      case 'null':
        return value === null
      case 'tag':
      case 'ref':
      case 'map':
        return isObject(value)
      case 'array':
        return Array.isArray(value)
    }
  }

  /** The member the value matches; else the findings of the closest member (a wrong type at the top is farthest). */
  checkUnion(value: Json, members: PropertyType[], path: string): void {
    let best: { walk: Walk; score: number } | undefined
    for (const member of members) {
      const walk = new Walk(this.db, this.resource)
      walk.checkValue(value, member, path)
      walk.values -= 1 // counted once, here
      const score = walk.problems.length + (walk.problems.some((p) => p.path === path && p.rule === 'wrong-type') ? 1000 : 0)
      if (best === undefined || score < best.score) best = { walk, score }
      if (score === 0) break
    }
    if (best === undefined) return
    if (best.score >= 1000 && members.length > 1) {
      this.report(path, 'wrong-type', `${describeValue(value)} is none of ${members.map((m) => describeType(m, this.db)).join(' | ')}`)
    } else {
      this.problems.push(...best.walk.problems)
    }
    this.values += best.walk.values
    this.intrinsic += best.walk.intrinsic
  }
}

/** Every node of a tree, depth first. */
function* nodes(node: Json): Generator<Json> {
  yield node
  if (Array.isArray(node)) for (const child of node) yield* nodes(child)
  else if (isObject(node)) for (const child of Object.values(node)) yield* nodes(child)
}

/** The `[resource, attribute]` pairs an `Fn::GetAtt` or an `Fn::Sub` names (attributes given by an intrinsic are skipped). */
function getAttsOf(node: Json): { target: string; attribute: string; via: string }[] {
  if (!isObject(node)) return []
  const found: { target: string; attribute: string; via: string }[] = []
  const getAtt = node['Fn::GetAtt']
  if (typeof getAtt === 'string' && getAtt.includes('.')) {
    const dot = getAtt.indexOf('.')
    found.push({ target: getAtt.slice(0, dot), attribute: getAtt.slice(dot + 1), via: 'Fn::GetAtt' })
  } else if (Array.isArray(getAtt) && typeof getAtt[0] === 'string' && typeof getAtt[1] === 'string') {
    found.push({ target: getAtt[0], attribute: getAtt[1], via: 'Fn::GetAtt' })
  }
  const sub = node['Fn::Sub']
  const [text, variables] = typeof sub === 'string' ? [sub, {}] : Array.isArray(sub) ? [sub[0], sub[1]] : [undefined, {}]
  if (typeof text === 'string') {
    for (const [, name] of text.matchAll(/\$\{([^!}][^}]*)\}/g)) {
      const dot = (name as string).indexOf('.')
      if (dot < 0) continue
      const target = (name as string).slice(0, dot).trim()
      if (isObject(variables) && target in variables) continue
      found.push({ target, attribute: (name as string).slice(dot + 1).trim(), via: 'Fn::Sub' })
    }
  }
  return found
}

/** Problems of the template against the specification, with how much was checked. */
export function inspectTemplate(template: TemplateLike, db: SpecDatabase): Inspection {
  const inspection: Inspection = { problems: [], resources: 0, values: 0, intrinsic: 0, getAtts: 0 }
  const resources = isObject(template.Resources) ? template.Resources : {}
  const findResource = (type: string): Resource | undefined => db.lookup('resource', 'cloudFormationType', 'equals', type)[0]
  /** Logical id → its specification entry (undefined for an unknown type); custom resources are not in it. */
  const specOf = new Map<string, Resource | undefined>()

  for (const [name, resource] of Object.entries(resources)) {
    inspection.resources += 1
    const walk = new Walk(db, name)
    if (!isObject(resource)) {
      walk.report('', 'wrong-type', 'a resource is an object')
      inspection.problems.push(...walk.problems)
      continue
    }
    for (const key of Object.keys(resource)) {
      if (key !== 'Type' && key !== 'Properties' && !RESOURCE_ATTRIBUTES.has(key)) {
        walk.report(key, 'resource-key', `${key} is neither Type, Properties nor a resource attribute`)
      }
    }
    const type = resource['Type']
    const custom = typeof type === 'string' && isCustom(type)
    const spec = typeof type === 'string' ? findResource(custom ? CUSTOM_RESOURCE : type) : undefined
    if (!custom) specOf.set(name, spec)
    if (spec === undefined) {
      walk.report('Type', 'unknown-type', `${describeValue(type)} is not a resource type of the specification`)
    } else {
      const properties = resource['Properties'] ?? {}
      if (isObject(properties) && intrinsicName(properties) === undefined)
        walk.checkObject(properties, spec.properties, 'Properties', custom)
      else if (!isObject(properties)) walk.report('Properties', 'wrong-type', 'Properties is an object')
    }
    inspection.problems.push(...walk.problems)
    inspection.values += walk.values
    inspection.intrinsic += walk.intrinsic
  }

  const places: [string, Json][] = [
    ...Object.entries(resources),
    ...Object.entries(isObject(template.Outputs) ? template.Outputs : {}).map(([name, output]): [string, Json] => [
      `Outputs.${name}`,
      output,
    ]),
  ]
  for (const [place, tree] of places) {
    for (const node of nodes(tree)) {
      for (const { target, attribute, via } of getAttsOf(node)) {
        inspection.getAtts += 1
        const problem = (rule: Rule, message: string): number =>
          inspection.problems.push({ resource: place, path: `${via} ${target}.${attribute}`, rule, message })
        if (!(target in resources)) {
          problem('getatt-target', `${target} is not a resource of the template`)
          continue
        }
        if (!specOf.has(target)) continue // custom
        const spec = specOf.get(target)
        if (spec === undefined) continue // its unknown type is reported
        const prefix = attribute.split('.')[0] as string
        const nested = spec.attributes[prefix]?.type.type
        // `Outputs.Name` of a nested stack: an attribute whose value is a JSON object or a map.
        const known = attribute in spec.attributes || (attribute.includes('.') && (nested === 'json' || nested === 'map'))
        if (!known) {
          problem(
            'getatt-attribute',
            `${spec.cloudFormationType} has no attribute ${attribute} (it has ${Object.keys(spec.attributes).sort().join(', ') || 'none'})`,
          )
        }
      }
    }
  }
  return inspection
}

/** Every problem of the template (inspectTemplate without the counts). */
export function checkTemplate(template: TemplateLike, db: SpecDatabase): Problem[] {
  return inspectTemplate(template, db).problems
}

export const formatProblem = (problem: Problem): string => `${problem.resource} ${problem.path}: ${problem.rule}: ${problem.message}`
