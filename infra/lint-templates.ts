/**
 * `npm run lint:templates [-- --out <dir>]`: every CloudFormation template this repository deploys, through
 * cfn-lint (Python; `cfn-lint --version`), offline; exit 1 on any cfn-lint error (warnings are printed, not
 * counted). .ci/run runs it when cfn-lint is on the PATH.
 *
 * The templates: the service packaged as the tests package it (tests/support/osls-package.ts: a copy of the
 * repository, a stand-in SSM on localhost answering the stage's secrets, every other AWS endpoint closed) for
 * stage local, dev, prod, prod with every optional resource on (WAF, security alarms), prod in a VPC; the
 * example service (examples/orders-service, stage dev); and infra/*.yml as they are.
 * `--out <dir>` keeps the packaged templates there (<variant>.json); `--root <dir>` lints another checkout.
 */
import { execFile } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { cp, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { parseArgs, promisify } from 'node:util'
import { parseDocument } from 'yaml'
import { packageStage } from '../tests/support/osls-package.js'

const run = promisify(execFile)

/** The repository's files `osls package` needs, as the packaging tests copy them. */
const SERVICE_FILES = ['serverless.yml', 'package.json', 'functions', 'lib', 'infra', 'packages']
const EXAMPLE = 'examples/orders-service'

/** What a stage's stand-in SSM answers: its secrets (the other parameters osls asks for are absent, as they may be). */
const secretsFor = (stage: string): Record<string, string> => ({
  [`/attune-auth/${stage}/jwt-secret`]: `${stage}-jwt-secret-of-at-least-32-bytes, random enough`,
  [`/attune-auth/${stage}/pseudonym-key`]: `${stage}-pseudonym-key-of-at-least-32-bytes, random too`,
  [`/attune-auth/${stage}/mfa-encryption-keys`]: `k1:${Buffer.from(`${stage}-mfa-key-of-32-bytes-exactly!`.slice(0, 32)).toString('base64')}`,
  [`/attune-auth/${stage}/database-url`]: `postgres://app@${stage}.proxy.example:5432/attune?sslmode=verify-full`,
})

/** The VPC settings of the `prod in a VPC` variant (infra/database.yml's outputs on a real deploy). */
/** custom.vpc.prod as docs/DEPLOY.md writes it: the database stack's exports, imported (infra/database.yml). */
const VPC = {
  securityGroupIds: [{ 'Fn::ImportValue': 'attune-db-prod-LambdaSecurityGroupId' }],
  subnetIds: { 'Fn::Split': [',', { 'Fn::ImportValue': 'attune-db-prod-SubnetIds' }] },
}

interface Variant {
  name: string
  stage: string
  files: string[]
  service?: string
  parameters: Record<string, string>
  params?: Record<string, string>
  /** Rewrites serverless.yml of the copy before packaging. */
  edit?: (serverlessYml: string) => string
  /** A check of the packaged template that the variant is what it says (else it lints the wrong thing). */
  expect?: (template: Template) => string | undefined
}

interface Template {
  Resources?: Record<string, { Type: string; Properties?: Record<string, unknown> }>
}

export const VARIANTS: Variant[] = [
  { name: 'local', stage: 'local', files: SERVICE_FILES, parameters: {} },
  { name: 'dev', stage: 'dev', files: SERVICE_FILES, parameters: secretsFor('dev') },
  { name: 'prod', stage: 'prod', files: SERVICE_FILES, parameters: secretsFor('prod') },
  {
    name: 'prod-all-options',
    stage: 'prod',
    files: SERVICE_FILES,
    parameters: secretsFor('prod'),
    params: {
      wafRateLimit: '300',
      alarmTopicArn: 'arn:aws:sns:us-east-1:123456789012:security-alerts',
      accessLogs: 'true',
      tracing: 'true',
      databaseAuth: 'iam',
      databaseConnectResource: 'prx-0123456789abcdef0/attune_login',
      migrationConnectResource: 'prx-0123456789abcdef0/attune_admin',
    },
    expect: (template) =>
      Object.values(template.Resources ?? {}).some((r) => r.Type === 'AWS::WAFv2::WebACL') ? undefined : 'no AWS::WAFv2::WebACL',
  },
  {
    name: 'prod-vpc',
    stage: 'prod',
    files: SERVICE_FILES,
    parameters: secretsFor('prod'),
    params: { inVpc: 'true' },
    edit: (yml) => {
      const doc = parseDocument(yml)
      doc.setIn(['custom', 'vpc', 'prod'], doc.createNode(VPC))
      return doc.toString()
    },
    expect: (template) =>
      Object.values(template.Resources ?? {}).some((r) => r.Type === 'AWS::Lambda::Function' && r.Properties?.['VpcConfig'] !== undefined)
        ? undefined
        : 'no function has a VpcConfig: serverless.yml no longer takes custom.vpc.<stage> (update this variant)',
  },
  {
    name: 'orders-service-dev',
    stage: 'dev',
    files: ['serverless.yml', 'package.json', 'functions'].map((entry) => `${EXAMPLE}/${entry}`),
    service: EXAMPLE,
    parameters: { '/attune-auth/dev/authorizer-arn': 'arn:aws:lambda:us-east-1:123456789012:function:attune-auth-dev-authorizer' },
  },
]

export interface LintMatch {
  Filename: string
  Level: 'Error' | 'Warning' | 'Informational'
  Message: string
  Rule: { Id: string }
  Location: { Start: { LineNumber: number }; Path?: (string | number)[] }
}

/** cfn-lint's findings for one template (JSON output); a run that gives no JSON is an error. */
export async function cfnLint(file: string): Promise<LintMatch[]> {
  let stdout: string
  try {
    ;({ stdout } = await run('cfn-lint', ['--format', 'json', '--non-zero-exit-code', 'none', '--', file], { maxBuffer: 64 * 1024 * 1024 }))
  } catch (error) {
    const failed = error as { stdout?: string; stderr?: string; message: string }
    throw new Error(`cfn-lint failed on ${file}: ${failed.stderr || failed.stdout || failed.message}`)
  }
  try {
    return JSON.parse(stdout) as LintMatch[]
  } catch {
    throw new Error(`cfn-lint printed no JSON for ${file}: ${stdout.slice(0, 2000)}`)
  }
}

const describeMatch = (match: LintMatch): string =>
  `  ${match.Level.padEnd(13)} ${match.Rule.Id} line ${match.Location.Start.LineNumber}` +
  `${match.Location.Path ? ` ${match.Location.Path.join('/')}` : ''}: ${match.Message}`

/**
 * Packages one variant (in a copy of `root` when it edits serverless.yml) and answers its template, checked to be
 * what the variant says (its `expect`), as the JSON text osls wrote. tests/packaging/resource-spec.test.ts uses it too.
 */
export async function packageVariant(root: string, variant: Variant): Promise<string> {
  let from = root
  let scratch: string | undefined
  if (variant.edit !== undefined) {
    scratch = await mkdtemp(join(tmpdir(), `attune-lint-${variant.name}-`))
    for (const file of variant.files) await cp(join(root, file), join(scratch, file), { recursive: true })
    const yml = join(scratch, variant.service ?? '.', 'serverless.yml')
    await writeFile(yml, variant.edit(readFileSync(yml, 'utf8')))
    await symlink(join(root, 'node_modules'), join(scratch, 'node_modules'), 'dir')
    from = scratch
  }
  try {
    const packaged = await packageStage({
      root: from,
      files: variant.files,
      stage: variant.stage,
      parameters: variant.parameters,
      ...(variant.service === undefined ? {} : { service: variant.service }),
      ...(variant.params === undefined ? {} : { params: variant.params }),
    })
    try {
      const text = readFileSync(join(packaged.out, 'cloudformation-template-update-stack.json'), 'utf8')
      const problem = variant.expect?.(JSON.parse(text) as Template)
      if (problem !== undefined) throw new Error(`variant ${variant.name} is not what it says: ${problem}`)
      return text
    } finally {
      await packaged.cleanup()
    }
  } finally {
    if (scratch !== undefined) await rm(scratch, { recursive: true, force: true })
  }
}

/** Packages one variant and writes its template to `out`: the file's path. */
async function packageVariantInto(root: string, variant: Variant, out: string): Promise<string> {
  const file = join(out, `${variant.name}.json`)
  await writeFile(file, await packageVariant(root, variant))
  return file
}

/** Runs `tasks` at most `limit` at a time, in order of start; resolves with every outcome. */
async function settleAll<T>(tasks: (() => Promise<T>)[], limit: number): Promise<PromiseSettledResult<T>[]> {
  const results: PromiseSettledResult<T>[] = []
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < tasks.length) {
      const index = next++
      const task = tasks[index] as () => Promise<T>
      results[index] = await task().then(
        (value) => ({ status: 'fulfilled', value }) as const,
        (reason: unknown) => ({ status: 'rejected', reason }) as const,
      )
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker))
  return results
}

/** Lints every template; returns the number of errors (a template that could not be packaged or linted counts 1). */
export async function lintTemplates(root: string, out: string, log: (line: string) => void = console.log): Promise<number> {
  await mkdir(out, { recursive: true })
  const started = Date.now()
  const packaged = await settleAll(
    VARIANTS.map((variant) => () => packageVariantInto(root, variant, out)),
    3,
  )
  log(`packaged ${VARIANTS.length} variants in ${Math.round((Date.now() - started) / 1000)} s`)
  const infra = readdirSync(join(root, 'infra'))
    .filter((name) => /\.ya?ml$/.test(name))
    .sort()
  const templates: { label: string; file?: string; error?: unknown }[] = [
    ...VARIANTS.map((variant, index) => {
      const outcome = packaged[index] as PromiseSettledResult<string>
      return outcome.status === 'fulfilled'
        ? { label: `packaged ${variant.name}`, file: outcome.value }
        : { label: `packaged ${variant.name}`, error: outcome.reason }
    }),
    ...infra.map((name) => ({ label: `infra/${name}`, file: join(root, 'infra', name) })),
  ]
  let errors = 0
  for (const template of templates) {
    if (template.file === undefined) {
      errors += 1
      log(
        `FAIL ${template.label}: could not be packaged: ${String(template.error instanceof Error ? template.error.message : template.error)}`,
      )
      continue
    }
    let matches: LintMatch[]
    try {
      matches = await cfnLint(template.file)
    } catch (error) {
      errors += 1
      log(`FAIL ${template.label}: ${error instanceof Error ? error.message : String(error)}`)
      continue
    }
    const count = (level: LintMatch['Level']): number => matches.filter((m) => m.Level === level).length
    const parsed = parseDocument(readFileSync(template.file, 'utf8'), { logLevel: 'silent' }).toJS() as Template | null
    const resources = Object.keys(parsed?.Resources ?? {}).length
    errors += count('Error')
    log(
      `${count('Error') === 0 ? 'ok  ' : 'FAIL'} ${template.label} (${resources} resources): ${count('Error')} errors, ` +
        `${count('Warning')} warnings, ${count('Informational')} informational`,
    )
    // Errors one by one; warnings and informational findings once per rule, with how often it fired.
    for (const match of matches.filter((m) => m.Level === 'Error')) log(describeMatch(match))
    const others = new Map<string, LintMatch[]>()
    for (const match of matches.filter((m) => m.Level !== 'Error')) others.set(match.Rule.Id, [...(others.get(match.Rule.Id) ?? []), match])
    for (const group of others.values())
      log(`${describeMatch(group[0] as LintMatch)}${group.length > 1 ? ` (and ${group.length - 1} more like it)` : ''}`)
  }
  log(`cfn-lint ${templates.length} templates: ${errors} errors`)
  return errors
}

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, strict: true, options: { out: { type: 'string' }, root: { type: 'string' } } })
  const root = resolve(values.root ?? fileURLToPath(new URL('..', import.meta.url)))
  try {
    const { stdout } = await run('cfn-lint', ['--version'])
    console.log(`${stdout.trim()}; templates of ${root}`)
  } catch {
    console.error('cfn-lint is not on the PATH (pip install cfn-lint): nothing linted')
    return 2
  }
  const out = values.out === undefined ? await mkdtemp(join(tmpdir(), 'attune-templates-')) : resolve(values.out)
  try {
    return (await lintTemplates(root, out)) === 0 ? 0 : 1
  } finally {
    if (values.out === undefined) await rm(out, { recursive: true, force: true })
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code
    },
    (error: unknown) => {
      console.error(error instanceof Error ? error.message : error)
      process.exitCode = 1
    },
  )
}
