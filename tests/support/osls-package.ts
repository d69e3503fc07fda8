/**
 * `osls package` of a deployed stage, offline: its only AWS calls, SSM GetParameter for `${ssm:...}`
 * variables, are answered by a stand-in SSM on localhost (AWS_ENDPOINT_URL_SSM, dummy credentials);
 * every other AWS endpoint points at a closed port, so nothing reaches AWS.
 */
import { execFile } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { cp, mkdtemp, rm, symlink } from 'node:fs/promises'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { TEST_ENVIRONMENT } from './test-environment.js'

export interface PackagedStage {
  /** The CloudFormation template's resources. */
  resources: Record<string, { Type: string; Properties: Record<string, any> }>
  /** The CloudFormation template's conditions. */
  conditions: Record<string, unknown>
  /** The SSM parameter names osls asked for. */
  asked: string[]
  /** The `.serverless` folder with the zips; gone after cleanup(). */
  out: string
  cleanup(): Promise<void>
}

export interface PackageOptions {
  /** The repository the files come from (its node_modules is linked in). */
  root: string
  /** Paths relative to `root`, copied to the same place in a temp folder laid out like the repository. */
  files: string[]
  /** The service's folder, relative to the repository (default: its root). */
  service?: string
  stage: string
  /** What the stand-in SSM answers, by name; any other name is ParameterNotFound. */
  parameters: Record<string, string>
  /** serverless.yml params set on the command line (`--param="name=value"`). */
  params?: Record<string, string>
}

/** Packages a copy of `files` for `stage`; call cleanup() when done with `out`. */
/** Variables the tests set for the application (tests/support/env.ts): a packaged stage must not pick them up. */
const TEST_APPLICATION_VARIABLES = ['DATABASE_URL', ...Object.keys(TEST_ENVIRONMENT)]

/** This process's environment for an osls child: no AWS credentials, and none of the tests' application settings. */
export function packagingEnvironment(): Record<string, string> {
  const env: Record<string, string> = {}
  for (const [key, value] of Object.entries(process.env)) {
    if (value !== undefined && !key.startsWith('AWS_') && !TEST_APPLICATION_VARIABLES.includes(key)) env[key] = value
  }
  return env
}

export async function packageStage({ root, files, service = '.', stage, parameters, params = {} }: PackageOptions): Promise<PackagedStage> {
  const asked: string[] = []
  const ssm = createServer((req, res) => {
    let body = ''
    req.on('data', (chunk: Buffer) => (body += chunk.toString()))
    req.on('end', () => {
      const { Name = '' } = JSON.parse(body || '{}') as { Name?: string }
      asked.push(Name)
      res.setHeader('Content-Type', 'application/x-amz-json-1.1')
      const value = parameters[Name]
      if (req.headers['x-amz-target'] === 'AmazonSSM.GetParameter' && value !== undefined) {
        res.end(JSON.stringify({ Parameter: { Name, Type: 'SecureString', Value: value, Version: 1 } }))
      } else {
        res.statusCode = 400
        res.end(JSON.stringify({ __type: 'ParameterNotFound', message: `${Name} not found` }))
      }
    })
  })
  await new Promise<void>((resolve) => ssm.listen(0, '127.0.0.1', resolve))
  const work = await mkdtemp(join(tmpdir(), `attune-package-${stage}-`))
  const cleanup = async (): Promise<void> => {
    await rm(work, { recursive: true, force: true })
  }
  try {
    for (const file of files) await cp(join(root, file), join(work, file), { recursive: true })
    await symlink(join(root, 'node_modules'), join(work, 'node_modules'), 'dir')
    const env = packagingEnvironment()
    Object.assign(env, {
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      AWS_SHARED_CREDENTIALS_FILE: join(work, 'none'),
      AWS_CONFIG_FILE: join(work, 'none'),
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_ENDPOINT_URL: 'http://127.0.0.1:9',
      AWS_ENDPOINT_URL_SSM: `http://127.0.0.1:${(ssm.address() as AddressInfo).port}`,
    })
    await promisify(execFile)(
      process.execPath,
      [
        '--disable-warning=NodeVersionSupportWarning',
        join(root, 'node_modules/osls/bin/serverless.js'),
        'package',
        '--stage',
        stage,
        ...Object.entries(params).map(([name, value]) => `--param=${name}=${value}`),
      ],
      { cwd: join(work, service), env, timeout: 60_000 }, // under the callers' 90 s hooks, so a hang reports osls's own output
    )
    const out = join(work, service, '.serverless')
    const template = JSON.parse(readFileSync(join(out, 'cloudformation-template-update-stack.json'), 'utf8'))
    return { resources: template.Resources, conditions: template.Conditions ?? {}, asked, out, cleanup }
  } catch (error) {
    await cleanup()
    throw error
  } finally {
    await new Promise((resolve) => ssm.close(resolve))
  }
}
