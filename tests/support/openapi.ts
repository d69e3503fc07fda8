/**
 * docs/openapi.yaml as a test oracle: a response (or request) body either matches what the document
 * says for that operation and status, or the test fails with ajv's findings and the body.
 *
 * The whole document is registered with Ajv (JSON Schema 2020-12, the OpenAPI 3.1 dialect) as
 * `openapi`, so a body is validated against `openapi#/<pointer to the schema>` and every `$ref`
 * inside resolves against the document's own components.
 */

import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import type { ErrorObject, ValidateFunction } from 'ajv/dist/2020.js'
import Ajv2020 from 'ajv/dist/2020.js'
import { parse } from 'yaml'

// ajv is CommonJS: under some module settings the default import is the module namespace, not the class.
const Ajv = (Ajv2020 as unknown as { default?: typeof Ajv2020 }).default ?? Ajv2020

export const OPENAPI_FILE = fileURLToPath(new URL('../../docs/openapi.yaml', import.meta.url))

const SCHEMA_ID = 'openapi'
const MEDIA_TYPE = 'application/json'
const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const

/** Fields of an OpenAPI document, and OpenAPI's additions to JSON Schema, that Ajv must accept as annotations. */
const OPENAPI_KEYWORDS = [
  'openapi',
  'info',
  'jsonSchemaDialect',
  'servers',
  'paths',
  'webhooks',
  'components',
  'security',
  'tags',
  'externalDocs',
  'discriminator',
  'xml',
  'example',
]

export interface OpenApiExample {
  summary?: string
  description?: string
  value?: unknown
}

export interface OpenApiMediaType {
  schema?: unknown
  example?: unknown
  examples?: Record<string, OpenApiExample>
}

export interface OpenApiResponse {
  description: string
  headers?: Record<string, unknown>
  content?: Record<string, OpenApiMediaType>
}

export interface OpenApiRequestBody {
  description?: string
  required?: boolean
  content: Record<string, OpenApiMediaType>
}

export interface OpenApiOperation {
  operationId?: string
  summary?: string
  description?: string
  tags?: string[]
  security?: Array<Record<string, string[]>>
  requestBody?: OpenApiRequestBody | { $ref: string }
  responses: Record<string, OpenApiResponse | { $ref: string }>
}

export interface OpenApiDocument {
  openapi: string
  info: { title: string; version: string; description?: string; summary?: string }
  servers?: Array<{ url: string; description?: string }>
  paths: Record<string, Partial<Record<(typeof HTTP_METHODS)[number], OpenApiOperation>>>
  components?: {
    schemas?: Record<string, Record<string, unknown>>
    responses?: Record<string, OpenApiResponse>
    requestBodies?: Record<string, OpenApiRequestBody>
    headers?: Record<string, Record<string, unknown>>
    securitySchemes?: Record<string, Record<string, unknown>>
  }
}

export interface DocumentedOperation {
  method: string
  path: string
  operation: OpenApiOperation
}

interface Loaded {
  document: OpenApiDocument
  ajv: InstanceType<typeof Ajv2020>
}

let loaded: Loaded | undefined

function load(): Loaded {
  if (loaded) return loaded
  const document: unknown = parse(readFileSync(OPENAPI_FILE, 'utf8'))
  if (!isObject(document) || typeof document['openapi'] !== 'string' || !isObject(document['paths'])) {
    throw new Error(`${OPENAPI_FILE} is not an OpenAPI document`)
  }
  const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true })
  ajv.addVocabulary(OPENAPI_KEYWORDS)
  // OpenAPI's format registry: the integer sizes are checked, the others are annotations.
  ajv.addFormat('int32', { type: 'number', validate: (n: number) => Number.isInteger(n) && n >= -(2 ** 31) && n < 2 ** 31 })
  ajv.addFormat('int64', { type: 'number', validate: (n: number) => Number.isInteger(n) })
  ajv.addFormat('float', { type: 'number', validate: () => true })
  ajv.addFormat('double', { type: 'number', validate: () => true })
  ajv.addFormat('password', true)
  ajv.addFormat('uuid', /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i)
  ajv.addFormat('date-time', {
    type: 'string',
    validate: (s: string) => /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(s) && !Number.isNaN(Date.parse(s)),
  })
  ajv.addSchema(document, SCHEMA_ID)
  loaded = { document: document as unknown as OpenApiDocument, ajv }
  return loaded
}

/** The parsed docs/openapi.yaml (loaded once). */
export function openApiDocument(): OpenApiDocument {
  return load().document
}

/** Every operation the document describes, as `{method: 'POST', path: '/auth/login', operation}`. */
export function documentedOperations(): DocumentedOperation[] {
  const operations: DocumentedOperation[] = []
  for (const [path, item] of Object.entries(openApiDocument().paths)) {
    for (const method of HTTP_METHODS) {
      const operation = item[method]
      if (operation) operations.push({ method: method.toUpperCase(), path, operation })
    }
  }
  return operations
}

/** The Response Object documented for `method path status` (its `$ref` resolved); throws when there is none. */
export function documentedResponse(method: string, path: string, status: number): OpenApiResponse {
  return findResponse(method, path, status).response
}

/** The Request Body Object documented for `method path` (its `$ref` resolved); throws when there is none. */
export function documentedRequestBody(method: string, path: string): OpenApiRequestBody {
  return findRequestBody(method, path).requestBody
}

/** Throws unless `body` matches the documented `application/json` response of `method path` for `status`. */
export function expectMatchesOpenApi(method: string, path: string, status: number, body: unknown): void {
  const { response, pointer, label } = findResponse(method, path, status)
  // A documented redirect answers no body; its Location is the test's to check.
  if (status >= 300 && status < 400 && body === null && !response.content) return
  if (!response.content?.[MEDIA_TYPE]?.schema) {
    throw new Error(`${label}: docs/openapi.yaml documents no ${MEDIA_TYPE} body for this response`)
  }
  validate(`${pointer}/content/${escapePointer(MEDIA_TYPE)}/schema`, body, `${label} response`)
}

/** Throws unless `body` matches the documented `application/json` request body of `method path`. */
export function expectRequestMatchesOpenApi(method: string, path: string, body: unknown): void {
  const { requestBody, pointer, label } = findRequestBody(method, path)
  if (!requestBody.content[MEDIA_TYPE]?.schema) {
    throw new Error(`${label}: docs/openapi.yaml documents no ${MEDIA_TYPE} request body`)
  }
  validate(`${pointer}/content/${escapePointer(MEDIA_TYPE)}/schema`, body, `${label} request`)
}

function findRequestBody(method: string, path: string): { requestBody: OpenApiRequestBody; pointer: string; label: string } {
  const { operation, pointer, label } = findOperation(method, path)
  if (!operation.requestBody) throw new Error(`${label}: docs/openapi.yaml documents no request body`)
  const resolved = resolveRef<OpenApiRequestBody>(operation.requestBody, `${pointer}/requestBody`)
  return { requestBody: resolved.value, pointer: resolved.pointer, label }
}

function findOperation(method: string, path: string): { operation: OpenApiOperation; pointer: string; label: string } {
  const { document } = load()
  const label = `${method.toUpperCase()} ${path}`
  const key = method.toLowerCase()
  const template = matchPath(document, path)
  const operation = template === undefined ? undefined : (document.paths[template] as Record<string, unknown> | undefined)?.[key]
  if (template === undefined || !isObject(operation) || !HTTP_METHODS.includes(key as (typeof HTTP_METHODS)[number])) {
    const documented = documentedOperations().map((o) => `${o.method} ${o.path}`)
    throw new Error(`${label} is not documented in docs/openapi.yaml (documented: ${documented.join(', ')})`)
  }
  return {
    operation: operation as unknown as OpenApiOperation,
    pointer: `/paths/${escapePointer(template)}/${key}`,
    label,
  }
}

function findResponse(method: string, path: string, status: number): { response: OpenApiResponse; pointer: string; label: string } {
  const found = findOperation(method, path)
  const responses = found.operation.responses
  const label = `${found.label} ${status}`
  // OpenAPI precedence: an exact status, then its range ("4XX"), then "default".
  const key = [String(status), `${String(status).charAt(0)}XX`, 'default'].find((k) => responses[k] !== undefined)
  const declared = key === undefined ? undefined : responses[key]
  if (key === undefined || declared === undefined) {
    throw new Error(`${label} is not documented in docs/openapi.yaml (documented statuses: ${Object.keys(responses).join(', ')})`)
  }
  const resolved = resolveRef<OpenApiResponse>(declared, `${found.pointer}/responses/${escapePointer(key)}`)
  return { response: resolved.value, pointer: resolved.pointer, label }
}

function validate(pointer: string, body: unknown, label: string): void {
  const { ajv } = load()
  const check: ValidateFunction | undefined = ajv.getSchema(`${SCHEMA_ID}#${encodePointer(pointer)}`)
  if (!check) throw new Error(`${label}: no schema at ${pointer} in docs/openapi.yaml`)
  if (check(body)) return
  throw new Error(
    [
      `${label}: the body does not match docs/openapi.yaml (${pointer}):`,
      ...(check.errors ?? []).map((error) => `  - ${describe(error)}`),
      `body: ${safeStringify(body)}`,
    ].join('\n'),
  )
}

/** Follows a Reference Object (`{$ref: '#/...'}`, not a JSON Schema) within the document. */
function resolveRef<T>(node: unknown, pointer: string): { value: T; pointer: string } {
  const { document } = load()
  let current = node
  let at = pointer
  for (let hops = 0; isObject(current) && typeof current['$ref'] === 'string'; hops++) {
    const ref = current['$ref']
    if (!ref.startsWith('#/') || hops > 16) throw new Error(`docs/openapi.yaml: cannot follow $ref ${ref} at ${at}`)
    at = ref.slice(1)
    current = at
      .slice(1)
      .split('/')
      .map(unescapePointer)
      .reduce<unknown>((value, part) => (isObject(value) ? value[part] : undefined), document)
    if (current === undefined) throw new Error(`docs/openapi.yaml: $ref ${ref} points at nothing`)
  }
  return { value: current as T, pointer: at }
}

/** The document's path (template) matching a concrete path: an exact key, else one whose `{params}` match. */
function matchPath(document: OpenApiDocument, path: string): string | undefined {
  if (document.paths[path] !== undefined) return path
  return Object.keys(document.paths).find((template) => {
    const pattern = template
      .split(/\{[^}]+\}/)
      .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
      .join('[^/]+')
    return new RegExp(`^${pattern}$`).test(path)
  })
}

function describe(error: ErrorObject): string {
  const where = `body${error.instancePath}`
  const params = error.params as Record<string, unknown>
  const detail =
    error.keyword === 'additionalProperties'
      ? ` (${JSON.stringify(params['additionalProperty'])})`
      : error.keyword === 'enum'
        ? ` (${JSON.stringify(params['allowedValues'])})`
        : error.keyword === 'const'
          ? ` (${JSON.stringify(params['allowedValue'])})`
          : ''
  return `${where} ${error.message ?? error.keyword}${detail} [${error.schemaPath}]`
}

function safeStringify(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value)
  } catch {
    return String(value)
  }
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value)
const escapePointer = (part: string): string => part.replaceAll('~', '~0').replaceAll('/', '~1')
const unescapePointer = (part: string): string => part.replaceAll('~1', '/').replaceAll('~0', '~')
/** A JSON pointer as a URI fragment (ajv decodes it with decodeURIComponent). */
const encodePointer = (pointer: string): string => pointer.split('/').map(encodeURIComponent).join('/')
