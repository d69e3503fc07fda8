/**
 * `osls package` on stage `local`, with no AWS credentials and no secrets in the environment, and what the
 * CloudFormation template and zips it writes promise about the deployed API: one Lambda per documented
 * operation (docs/openapi.yaml) plus the authorizer, the authorizer exactly on the protected routes, and the
 * Gateway Responses that turn API Gateway's own refusals into the API's `{"error", "code", "reason"}` bodies.
 */
import { execFile, spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { cp, mkdtemp, rm, symlink } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { basename, dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { promisify } from 'node:util'
import { BEARER_CHALLENGE, ERROR_STATUS, REASONS } from '@attune-auth/client'
import postgres from 'postgres'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { migrations } from '../../lib/db/migrate.js'
import { SECRET_PARAMETERS } from '../../lib/secrets.js'
import { packagingEnvironment } from '../support/osls-package.js'
import { zipEntries, zipEntry } from '../support/zip.js'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))

interface Resource {
  Type: string
  Properties: Record<string, any>
  DependsOn?: string[]
}
interface Template {
  Conditions: Record<string, unknown>
  Resources: Record<string, Resource>
  Outputs: Record<string, { Value: unknown; Export?: { Name: string } }>
}

let work: string | undefined
/** The service's `.serverless/`: the template and one zip per function. */
let out: string
let template: Template
let packagingSeconds: number

/**
 * Packages a copy of the service: `osls package` deletes `.serverless/` and serverless-esbuild its work
 * folder in the service folder, which must not happen to a developer's (or a concurrent run's) files.
 */
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'attune-auth-package-'))
  const service = join(work, 'service')
  for (const entry of ['serverless.yml', 'package.json', 'tsconfig.json', 'functions', 'lib', 'infra']) {
    await cp(join(ROOT, entry), join(service, entry), { recursive: true })
  }
  await symlink(join(ROOT, 'node_modules'), join(service, 'node_modules'), 'dir')
  // No credentials anywhere: drop AWS_* and point the SDK at files that do not exist.
  const env = packagingEnvironment()
  Object.assign(env, {
    AWS_SHARED_CREDENTIALS_FILE: join(work, 'none'),
    AWS_CONFIG_FILE: join(work, 'none'),
    AWS_EC2_METADATA_DISABLED: 'true',
  })
  const started = performance.now()
  // What `npm run package` runs.
  await promisify(execFile)(
    process.execPath,
    ['--disable-warning=NodeVersionSupportWarning', 'node_modules/osls/bin/serverless.js', 'package', '--stage', 'local'],
    { cwd: service, env, timeout: 60_000 },
  )
  packagingSeconds = (performance.now() - started) / 1000
  out = join(service, '.serverless')
  template = JSON.parse(readFileSync(join(out, 'cloudformation-template-update-stack.json'), 'utf8')) as Template
}, 90_000)

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true })
})

const ofType = (type: string): [string, Resource][] => Object.entries(template.Resources).filter(([, r]) => r.Type === type)

/** `POST /auth/login` → { function logical id, authorizer id or undefined }. */
function routes(): Map<string, { functionId: string; authorizationType: string; authorizerId: unknown }> {
  const pathOf = (ref: unknown): string => {
    const id = (ref as { Ref?: string }).Ref
    if (!id) return '' // the root resource
    const resource = template.Resources[id] as Resource
    return `${pathOf(resource.Properties['ParentId'])}/${resource.Properties['PathPart']}`
  }
  const result = new Map<string, { functionId: string; authorizationType: string; authorizerId: unknown }>()
  for (const [, method] of ofType('AWS::ApiGateway::Method')) {
    const p = method.Properties
    const uriParts = p['Integration'].Uri['Fn::Join'][1] as unknown[]
    const target = uriParts.find((part) => typeof part === 'object' && part !== null && 'Fn::GetAtt' in part) as {
      'Fn::GetAtt': [string, string]
    }
    result.set(`${p['HttpMethod']} ${pathOf(p['ResourceId'])}`, {
      functionId: target['Fn::GetAtt'][0],
      authorizationType: p['AuthorizationType'],
      authorizerId: p['AuthorizerId'],
    })
  }
  return result
}

/** Operations of docs/openapi.yaml: `POST /auth/login` → does it require a bearer token? */
function documentedOperations(): Map<string, boolean> {
  const doc = parse(readFileSync(join(ROOT, 'docs', 'openapi.yaml'), 'utf8')) as {
    security?: unknown[]
    paths: Record<string, Record<string, { security?: unknown[] }>>
  }
  const operations = new Map<string, boolean>()
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, operation] of Object.entries(item)) {
      if (!['get', 'put', 'post', 'delete', 'patch'].includes(method)) continue
      const security = operation.security ?? doc.security ?? []
      operations.set(`${method.toUpperCase()} ${path}`, security.length > 0)
    }
  }
  return operations
}

describe('npm run package (osls package --stage local)', () => {
  it('needs no AWS credentials and takes seconds', () => {
    expect(template.Resources).toBeDefined()
    expect(packagingSeconds).toBeLessThan(30)
  })

  it('deploys every documented operation, and only those, each to its own Lambda', () => {
    const deployed = routes()
    expect([...deployed.keys()].sort()).toEqual([...documentedOperations().keys()].sort())
    const functionIds = [...deployed.values()].map((route) => route.functionId)
    expect(new Set(functionIds).size).toBe(functionIds.length)
  })

  it('wires every handler in functions/ (the HTTP ones and the authorizer)', () => {
    const lambdas = ofType('AWS::Lambda::Function').map(([, r]) => r.Properties['Handler'] as string)
    const handlers = readdirSync(join(ROOT, 'functions'))
      .filter((file) => file.endsWith('.ts'))
      .map((file) => `functions/${basename(file, '.ts')}.handler`)
    expect(lambdas.sort()).toEqual(handlers.sort())
  })

  it('puts the authorizer on exactly the routes the contract protects', () => {
    const documented = documentedOperations()
    for (const [route, { authorizationType, authorizerId }] of routes()) {
      if (documented.get(route)) {
        expect({ route, authorizationType, authorizerId }).toEqual({
          route,
          authorizationType: 'CUSTOM',
          authorizerId: { Ref: 'AuthorizerApiGatewayAuthorizer' },
        })
      } else {
        expect({ route, authorizationType, authorizerId }).toEqual({ route, authorizationType: 'NONE', authorizerId: undefined })
      }
    }
  })

  it('uses the authorizer Lambda as a REQUEST authorizer on the Authorization header, uncached on stage local', () => {
    const authorizer = template.Resources['AuthorizerApiGatewayAuthorizer'] as Resource
    expect(authorizer.Properties).toMatchObject({
      Type: 'REQUEST',
      IdentitySource: 'method.request.header.Authorization',
      AuthorizerResultTtlInSeconds: 0,
    })
    expect(JSON.stringify(authorizer.Properties['AuthorizerUri'])).toContain('"AuthorizerLambdaFunction"')
  })

  it('runs every function on Node.js 22 on arm64, with the memory Argon2 needs where passwords are hashed', () => {
    const byHandler: Record<string, Record<string, any>> = Object.fromEntries(
      ofType('AWS::Lambda::Function').map(([, r]) => [r.Properties['Handler'], r.Properties]),
    )
    for (const [handler, properties] of Object.entries(byHandler)) {
      expect(properties).toMatchObject({ Runtime: 'nodejs24.x', Architectures: ['arm64'] })
      // Behind API Gateway: well under its 29 s. Migration (after a deploy) and maintenance (on a schedule) are not.
      const direct = ['functions/migrate.handler', 'functions/maintenance.handler', 'functions/mailer.handler']
      if (!direct.includes(handler)) expect(properties['Timeout'], handler).toBeLessThanOrEqual(10)
    }
    expect(byHandler['functions/migrate.handler']).toMatchObject({ Timeout: 300 })
    expect(byHandler['functions/maintenance.handler']).toMatchObject({ Timeout: 120 })
    expect(byHandler['functions/mailer.handler']).toMatchObject({ Timeout: 60 })
    for (const name of ['register', 'login', 'change-password', 'password-reset']) {
      expect(byHandler[`functions/${name}.handler`]).toMatchObject({ MemorySize: 1769, Timeout: 10 })
    }
    expect(byHandler['functions/me.handler']).toMatchObject({ MemorySize: 256 })
    expect(byHandler['functions/refresh.handler']).toMatchObject({ MemorySize: 256 })
    expect(byHandler['functions/authorizer.handler']).toMatchObject({ MemorySize: 256, Timeout: 5 })
  })

  it('gives every function the same configuration, with no secret in the template when none is set', () => {
    // The provider sign-in functions alone read the providers' variables (custom.oauth), all empty here.
    const OAUTH_FUNCTIONS = ['OauthAuthorize', 'OauthCallback', 'OauthToken', 'IdentitiesLink', 'IdentitiesList', 'IdentitiesUnlink']
    const oauth = {
      OAUTH_PROVIDERS: '',
      OAUTH_EXAMPLE_ISSUER: '',
      OAUTH_EXAMPLE_CLIENT_ID: '',
      OAUTH_EXAMPLE_CLIENT_SECRET: '',
      OAUTH_ALLOWED_REDIRECT_URIS: '',
      OAUTH_AUTO_LINK: '',
      OAUTH_TRUSTED_PROVIDERS: '',
      OAUTH_PUBLIC_URL: '',
    }
    for (const [id, lambda] of ofType('AWS::Lambda::Function')) {
      const reads = OAUTH_FUNCTIONS.some((name) => id === `${name}LambdaFunction`) ? oauth : {}
      expect(lambda.Properties['Environment'].Variables, id).toEqual({
        ...reads,
        STAGE: 'local',
        LOG_LEVEL: 'info',
        // Empty: lib/config.ts's defaults apply (one place for each default).
        JWT_ACCESS_EXPIRATION: '',
        JWT_REFRESH_EXPIRATION: '',
        JWT_REFRESH_REUSE_GRACE: '',
        SESSION_MAX_AGE: '',
        SESSION_RETENTION_DAYS: '',
        MAX_SESSIONS_PER_IDENTITY: '',
        LOGIN_FREE_ATTEMPTS: '',
        LOGIN_MAX_DELAY_SECONDS: '',
        LOGIN_RESET_SECONDS: '',
        ADDRESS_MAX_FAILURES: '',
        ADDRESS_WINDOW_SECONDS: '',
        ADDRESS_BLOCK_SECONDS: '',
        REGISTRATIONS_PER_ADDRESS: '',
        REGISTRATION_WINDOW_SECONDS: '',
        THROTTLE_RETENTION_HOURS: '',
        EMAIL_FROM: '',
        PASSWORD_RESET_URL: '',
        EMAIL_VERIFY_URL: '',
        PRODUCT_NAME: '',
        PASSWORD_RESET_TTL: '',
        EMAIL_VERIFY_TTL: '',
        EMAIL_REQUESTS_PER_ADDRESS: '',
        EMAIL_REQUEST_WINDOW_SECONDS: '',
        ACCOUNT_MAILS_PER_HOUR: '',
        SES_CONFIGURATION_SET: '',
        SES_ENDPOINT: '',
        MAILER_FUNCTION: 'attune-auth-local-mailer',
        LAMBDA_ENDPOINT: '',
        BOOTSTRAP_ADMIN_LOGIN: '',
        AUDIT_RETENTION_DAYS: '',
        AUDIT_USER_VISIBLE_DAYS: '',
        JWT_ALGORITHM: 'HS256',
        DATABASE_PREPARE: 'true',
        JWT_ISSUER: 'attune-auth',
        SECRETS_PATH: '',
        DATABASE_AUTH: '',
        NODE_EXTRA_CA_CERTS: '',
        JWT_PREVIOUS_SECRET_UNTIL: '',
        JWT_PRIVATE_KEY: '',
        JWT_PREVIOUS_SECRET: '',
        JWT_PREVIOUS_PUBLIC_KEY: '',
        JWT_PUBLIC_KEY: '',
        JWT_SECRET: '',
        PSEUDONYM_KEY: '',
        MFA_ENCRYPTION_KEYS: '',
        DATABASE_URL: '',
      })
    }
  })

  it("keeps no secret in serverless.yml: deployed stages' functions read them at run time under the stage's own path", () => {
    const source = readFileSync(join(ROOT, 'serverless.yml'), 'utf8')
    const config = parse(source, { logLevel: 'error' }) as { provider: { environment: Record<string, string> } }
    expect(config.provider.environment['SECRETS_PATH']).toBe("${self:custom.secretsPath.${sls:stage}, '/attune-auth/${sls:stage}'}")
    for (const variable of Object.keys(SECRET_PARAMETERS)) expect(config.provider.environment[variable] ?? '').not.toContain('ssm:')
    // No `${ssm:...}` at all: osls would resolve it into the template at deploy time.
    expect(source.replace(/^\s*#.*$/gm, '')).not.toMatch(/\$\{ssm:/)
  })

  it("grants the functions nothing beyond writing their own logs, reading the stage's secrets, sending mail from its SES identity, and starting the mailer", () => {
    const [[, role] = []] = ofType('AWS::IAM::Role')
    const statements = (role as Resource).Properties['Policies'].flatMap((policy: any) => policy.PolicyDocument.Statement)
    const other = statements.filter((statement: any) => ![statement.Action].flat().every((action: string) => action.startsWith('logs:')))
    for (const statement of statements.filter((s: any) => !other.includes(s))) {
      expect(JSON.stringify(statement.Resource)).toContain('log-group:/aws/lambda/attune-auth-local')
    }
    expect(other).toEqual([
      {
        Effect: 'Allow',
        Action: ['ssm:GetParameters'],
        Resource: { 'Fn::Sub': 'arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter/attune-auth/local/*' },
      },
      {
        Effect: 'Deny',
        Action: ['ssm:GetParameters'],
        Resource: [
          { 'Fn::Sub': 'arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter/attune-auth/local/migration-database-url' },
          { 'Fn::Sub': 'arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter/attune-auth/local/oauth-*' },
        ],
      },
      {
        Effect: 'Allow',
        Action: ['kms:Decrypt'],
        Resource: '*',
        Condition: { StringEquals: { 'kms:ViaService': { 'Fn::Sub': 'ssm.${AWS::Region}.amazonaws.com' } } },
      },
      {
        Effect: 'Allow',
        Action: ['ses:SendEmail'],
        Resource: [
          { 'Fn::Sub': 'arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:identity/attune.localhost' },
          {
            'Fn::If': [
              'SesConfigurationSetGiven',
              { 'Fn::Sub': 'arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:configuration-set/' },
              { Ref: 'AWS::NoValue' },
            ],
          },
        ],
      },
      {
        Effect: 'Allow',
        Action: ['lambda:InvokeFunction'],
        Resource: { 'Fn::Sub': 'arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:attune-auth-local-mailer' },
      },
    ])
  })

  it('lets the functions connect to the database with IAM as its one user only when databaseConnectResource is set', () => {
    expect(template.Conditions['DatabaseIamAuth']).toEqual({ 'Fn::Not': [{ 'Fn::Equals': ['', ''] }] })
    const policy = template.Resources['DatabaseConnectPolicy'] as Resource & { Condition: string }
    expect(policy.Condition).toBe('DatabaseIamAuth')
    expect(policy.Properties['Roles']).toEqual([{ Ref: 'IamRoleLambdaExecution' }, { Ref: 'OAuthRole' }])
    expect(policy.Properties['PolicyDocument'].Statement).toEqual([
      {
        Effect: 'Allow',
        Action: 'rds-db:connect',
        Resource: { 'Fn::Sub': 'arn:${AWS::Partition}:rds-db:${AWS::Region}:${AWS::AccountId}:dbuser:' },
      },
    ])
  })

  it('gives the public discovery functions a role that may write their logs and nothing else: no secret, no SSM', () => {
    for (const name of ['JwksLambdaFunction', 'OpenidConfigurationLambdaFunction']) {
      expect(template.Resources[name]?.Properties['Role'], name).toEqual({ 'Fn::GetAtt': ['PublicRole', 'Arn'] })
    }
    const role = template.Resources['PublicRole'] as Resource
    const statements = role.Properties['Policies'].flatMap((policy: any) => policy.PolicyDocument.Statement)
    expect(statements).toHaveLength(2)
    expect(statements[0].Action).toEqual(['logs:CreateLogStream', 'logs:PutLogEvents'])
    // X-Ray only with param tracing (Lambda refuses an Active-traced function whose role cannot send traces).
    expect(statements[1]['Fn::If'][0]).toBe('TracingEnabled')
    expect(JSON.stringify(statements[0].Resource)).toMatch(/attune-auth-local-jwks:\*.*attune-auth-local-openidConfiguration:\*/)
  })

  it('gives the provider sign-in functions a role of their own: the only one that reads the providers’ client secrets', () => {
    const functions = ['OauthAuthorize', 'OauthCallback', 'OauthToken', 'IdentitiesLink', 'IdentitiesList', 'IdentitiesUnlink']
    for (const name of functions) {
      expect(template.Resources[`${name}LambdaFunction`]?.Properties['Role'], name).toEqual({ 'Fn::GetAtt': ['OAuthRole', 'Arn'] })
    }
    const shared = JSON.stringify(template.Resources['IamRoleLambdaExecution'])
    expect(shared).toContain('parameter/attune-auth/local/oauth-*')
    const role = template.Resources['OAuthRole'] as Resource
    const statements = role.Properties['Policies'].flatMap((policy: any) => policy.PolicyDocument.Statement)
    const denied = statements.filter((statement: any) => statement.Effect === 'Deny').map((statement: any) => statement.Resource)
    expect(JSON.stringify(denied)).toContain('migration-database-url')
    expect(JSON.stringify(denied)).not.toContain('oauth-')
    expect((template.Resources['DatabaseConnectPolicy'] as Resource).Properties['Roles']).toContainEqual({ Ref: 'OAuthRole' })
  })

  it('gives the migrate function a role of its own: its logs, the stage’s secrets, the database owner, nothing else', () => {
    expect(template.Resources['MigrateLambdaFunction']?.Properties['Role']).toEqual({ 'Fn::GetAtt': ['MigrateRole', 'Arn'] })
    const role = template.Resources['MigrateRole'] as Resource
    const statements = role.Properties['Policies'].flatMap((policy: any) => policy.PolicyDocument.Statement)
    expect(statements.map((statement: any) => statement.Action ?? statement['Fn::If'][1].Action)).toEqual([
      ['logs:CreateLogStream', 'logs:PutLogEvents'],
      'ssm:GetParameters',
      'kms:Decrypt',
      'rds-db:connect',
    ])
    expect(JSON.stringify(statements[0].Resource)).toContain('log-group:/aws/lambda/attune-auth-local-migrate:*')
    expect(statements[3]['Fn::If'][0]).toBe('MigrationIamAuth')
    // The other functions' role can never connect as the owner: only as the one user databaseConnectResource names.
    expect(JSON.stringify(template.Resources['IamRoleLambdaExecution'])).not.toContain('rds-db')
  })

  it('publishes the API URL and the authorizer ARN (export and SSM parameter) for other stacks', () => {
    expect(template.Outputs['ServiceEndpoint']).toBeDefined()
    expect(template.Outputs['AuthorizerArn']).toEqual({
      Description: expect.any(String),
      Value: { 'Fn::GetAtt': ['AuthorizerLambdaFunction', 'Arn'] },
      Export: { Name: 'attune-auth-local-AuthorizerArn' },
    })
    const [[, parameter] = []] = ofType('AWS::SSM::Parameter')
    expect((parameter as Resource).Properties).toMatchObject({
      Name: '/attune-auth/local/authorizer-arn',
      Type: 'String',
      Value: { 'Fn::GetAtt': ['AuthorizerLambdaFunction', 'Arn'] },
    })
  })

  it('packs each function as one minified ESM bundle, without source maps or the AWS SDK', () => {
    for (const [, lambda] of ofType('AWS::Lambda::Function')) {
      const handler = lambda.Properties['Handler'] as string
      const zip = readFileSync(join(out, basename(lambda.Properties['Code'].S3Key as string)))
      const entries = zipEntries(zip)
      const bundle = handler.replace(/\.handler$/, '.mjs')
      // The migration function also carries the SQL it applies, and the data its code steps load.
      const extra =
        handler === 'functions/migrate.handler'
          ? [
              ...readdirSync(join(ROOT, 'infra/migrations'))
                .filter((f) => f.endsWith('.sql'))
                .map((f) => `infra/migrations/${f}`),
              ...readdirSync(join(ROOT, 'infra/migrations/data')).map((f) => `infra/migrations/data/${f}`),
            ].sort()
          : []
      expect(entries).toEqual([bundle, ...extra])
    }
  })

  it('packs a migration function whose bundle applies the migrations it carries to a fresh database', async () => {
    const [, lambda] = ofType('AWS::Lambda::Function').find(([, l]) => l.Properties['Handler'] === 'functions/migrate.handler') ?? []
    expect(lambda).toBeDefined()
    const task = mkdtempSync(join(tmpdir(), 'attune-migrate-task-'))
    try {
      const zip = readFileSync(join(out, basename(lambda?.Properties['Code'].S3Key as string)))
      for (const name of zipEntries(zip)) {
        mkdirSync(dirname(join(task, name)), { recursive: true })
        writeFileSync(join(task, name), zipEntry(zip, name))
      }
      const database = `attune_pkg_${process.pid}_${Date.now().toString(36)}`
      const admin = postgres(process.env['DATABASE_URL'] as string, { max: 1, onnotice: () => {} })
      await admin.unsafe(`create database ${database}`)
      try {
        const url = new URL(process.env['DATABASE_URL'] as string)
        url.pathname = `/${database}`
        const child = spawnSync(
          process.execPath,
          [
            '--input-type=module',
            '-e',
            `const m = await import(${JSON.stringify(pathToFileURL(join(task, 'functions/migrate.mjs')).href)}); console.log(JSON.stringify(await m.handler()))`,
          ],
          {
            env: { ...process.env, DATABASE_URL: url.toString(), STAGE: 'test', LOG_LEVEL: 'silent' },
            encoding: 'utf8',
            timeout: 60_000,
          },
        )
        expect(child.status, child.stderr).toBe(0)
        const applied = JSON.parse(child.stdout.trim().split('\n').pop() ?? '{}')
        expect(applied).toEqual({ applied: migrations().map((migration) => migration.name) })
      } finally {
        await admin.unsafe(`drop database if exists ${database} with (force)`)
        await admin.end()
      }
    } finally {
      rmSync(task, { recursive: true, force: true })
    }
  })
})

describe('Gateway Responses (what API Gateway answers when it refuses a request itself)', () => {
  const responses = (): Map<string, Record<string, any>> =>
    new Map(ofType('AWS::ApiGateway::GatewayResponse').map(([, r]) => [r.Properties['ResponseType'] as string, r.Properties]))
  const body = (type: string, context: Record<string, string> = {}): unknown =>
    JSON.parse(
      String(responses().get(type)?.['ResponseTemplates']?.['application/json'])
        .replace(/\$context\.authorizer\.(\w+)/g, (_, key: string) => context[key] ?? '')
        .replace('$context.error.messageString', JSON.stringify('Unsupported Media Type')),
    )

  it("answers an authorizer Deny with 401, the authorizer's message and code, and a Bearer challenge", () => {
    const denied = responses().get('ACCESS_DENIED')
    expect(denied).toMatchObject({
      StatusCode: '401',
      ResponseParameters: {
        'gatewayresponse.header.WWW-Authenticate': `'${BEARER_CHALLENGE}'`,
        'gatewayresponse.header.Content-Type': "'application/json'",
      },
    })
    const context = { error: REASONS.token_expired.message, code: 'UNAUTHORIZED', reason: 'token_expired' }
    expect(body('ACCESS_DENIED', context)).toEqual(context)
  })

  it('answers a missing Authorization header with 401 "Missing authentication token" and a Bearer challenge', () => {
    expect(responses().get('UNAUTHORIZED')).toMatchObject({
      StatusCode: '401',
      ResponseParameters: { 'gatewayresponse.header.WWW-Authenticate': `'${BEARER_CHALLENGE}'` },
    })
    expect(body('UNAUTHORIZED')).toMatchObject({ error: REASONS.token_missing.message, code: 'UNAUTHORIZED' })
  })

  it("answers a failing authorizer or function as AWS names them (AUTHORIZER_CONFIGURATION_ERROR, INTEGRATION_FAILURE, INTEGRATION_TIMEOUT) with a 503 in the API's shape", () => {
    for (const type of ['AUTHORIZER_FAILURE', 'AUTHORIZER_CONFIGURATION_ERROR', 'INTEGRATION_FAILURE', 'INTEGRATION_TIMEOUT']) {
      expect(responses().get(type)?.['StatusCode'], type).toBe('503')
      expect(body(type), type).toEqual({
        error: REASONS.service_unavailable.message,
        code: 'SERVICE_UNAVAILABLE',
        reason: 'service_unavailable',
      })
    }
  })

  it('answers an unknown route with 404, throttling with 429 and its own failures with an opaque 500', () => {
    expect(responses().get('MISSING_AUTHENTICATION_TOKEN')?.['StatusCode']).toBe('404')
    expect(body('MISSING_AUTHENTICATION_TOKEN')).toMatchObject({ error: 'Not found', code: 'NOT_FOUND' })
    expect(responses().get('THROTTLED')?.['StatusCode']).toBe('429')
    expect(body('THROTTLED')).toMatchObject({ error: 'Too many requests', code: 'TOO_MANY_REQUESTS' })
    expect(body('DEFAULT_5XX')).toMatchObject({ error: REASONS.internal_error.message, code: 'INTERNAL_ERROR' })
    expect(body('DEFAULT_4XX')).toMatchObject({ error: 'Unsupported Media Type', code: 'BAD_REQUEST' })
  })

  it("uses only the API's error codes, with their statuses, and always answers uncacheable JSON", () => {
    for (const [type, properties] of responses()) {
      const { code } = body(type, { code: 'UNAUTHORIZED' }) as { code: keyof typeof ERROR_STATUS }
      expect(ERROR_STATUS[code], type).toBeDefined()
      if (properties['StatusCode']) expect(Number(properties['StatusCode']), type).toBe(ERROR_STATUS[code])
      expect(properties['ResponseParameters']['gatewayresponse.header.Content-Type'], type).toBe("'application/json'")
      expect(properties['ResponseParameters']['gatewayresponse.header.Cache-Control'], type).toBe("'no-store'")
    }
  })

  it("exist before the API deployment that must include them, even on a stack's first deploy", () => {
    const dependencies = (id: string, seen = new Set<string>()): Set<string> => {
      for (const next of [template.Resources[id]?.DependsOn ?? []].flat()) {
        if (!seen.has(next)) {
          seen.add(next)
          dependencies(next, seen)
        }
      }
      return seen
    }
    const [[deploymentId] = []] = ofType('AWS::ApiGateway::Deployment')
    const before = dependencies(deploymentId as string)
    for (const [id] of ofType('AWS::ApiGateway::GatewayResponse')) expect(before, id).toContain(id)
  })
})
