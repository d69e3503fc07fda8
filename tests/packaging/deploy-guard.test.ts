/**
 * infra/deploy-guard.cjs: osls itself refuses to deploy a stage whose secrets come from the environment (stage
 * `local`, any stage under custom.developmentSecrets), with no AWS credentials and before any AWS call, while
 * packaging that stage keeps working.
 */
import { execFile } from 'node:child_process'
import { cp, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises'
import type { Server } from 'node:http'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseDocument } from 'yaml'
import { packageStage } from '../support/osls-package.js'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const FILES = ['serverless.yml', 'package.json', 'functions', 'lib', 'infra']
/** A stage a team added under custom.developmentSecrets, in the copy's serverless.yml. */
const SANDBOX = 'sandbox'

/** A copy laid out like the repository: a deploy that went ahead would package and write `.serverless/` in it. */
let work = ''
/** Every request that reached the stand-in AWS endpoint (all services point at it). */
const requests: string[] = []
let aws: Server | undefined
let awsEndpoint = ''

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'attune-deploy-guard-'))
  for (const file of FILES) await cp(join(ROOT, file), join(work, file), { recursive: true })
  await symlink(join(ROOT, 'node_modules'), join(work, 'node_modules'), 'dir')
  const config = parseDocument(await readFile(join(work, 'serverless.yml'), 'utf8'), { logLevel: 'error' })
  config.setIn(['custom', 'developmentSecrets', SANDBOX], config.createNode({ jwtSecret: '' }))
  await writeFile(join(work, 'serverless.yml'), String(config))
  aws = createServer((req, res) => {
    requests.push(`${req.method} ${req.url} ${req.headers['x-amz-target'] ?? ''}`)
    res.statusCode = 500
    res.end()
  })
  await new Promise<void>((resolve) => aws?.listen(0, '127.0.0.1', resolve))
  awsEndpoint = `http://127.0.0.1:${(aws.address() as AddressInfo).port}`
})

afterAll(async () => {
  await new Promise((resolve) => (aws ? aws.close(resolve) : resolve(undefined)))
  if (work) await rm(work, { recursive: true, force: true })
})

interface Run {
  code: number
  output: string
}

/**
 * `osls <args>` in the copy, with no AWS settings of the caller's: HOME is an empty folder (no ~/.aws), and
 * with `credentials` only dummy keys, so that a call that went ahead would reach the stand-in endpoint.
 */
async function osls(args: string[], { credentials = false } = {}): Promise<Run> {
  const home = await mkdtemp(join(tmpdir(), 'attune-deploy-guard-home-'))
  const env: Record<string, string> = {}
  for (const [key, value] of Object.entries(process.env)) {
    if (value !== undefined && !key.startsWith('AWS_') && !['JWT_SECRET', 'DATABASE_URL', 'STAGE'].includes(key)) env[key] = value
  }
  Object.assign(env, {
    HOME: home,
    AWS_ACCESS_KEY_ID: credentials ? 'AKIDEXAMPLE' : '',
    AWS_SECRET_ACCESS_KEY: credentials ? 'test' : '',
    AWS_SESSION_TOKEN: '',
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_ENDPOINT_URL: awsEndpoint,
  })
  try {
    return await new Promise<Run>((resolve) => {
      execFile(
        process.execPath,
        ['--disable-warning=NodeVersionSupportWarning', join(ROOT, 'node_modules/osls/bin/serverless.js'), ...args],
        { cwd: work, env, timeout: 60_000 },
        (error, stdout, stderr) =>
          resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, output: stdout + stderr }),
      )
    })
  } finally {
    await rm(home, { recursive: true, force: true })
  }
}

const expectRefusal = (run: Run, command: string, stage: string): void => {
  expect(run.code, run.output).not.toBe(0)
  expect(run.output).toContain(`osls ${command} refused for stage "${stage}"`)
  expect(run.output).toContain('/attune-auth/<stage>/jwt-secret')
  expect(run.output).toContain('docs/DEPLOY.md')
}

describe('osls deploy of a stage whose secrets come from the environment', () => {
  it('is refused for stage local, with no AWS credentials, saying where the secrets of a deployable stage go', async () => {
    expectRefusal(await osls(['deploy', '--stage', 'local']), 'deploy', 'local')
  }, 60_000)

  it('is refused before any AWS call: deploy, deploy function and rollback, for local and any stage listed', async () => {
    const runs = await Promise.all([
      osls(['deploy', '-s', 'local'], { credentials: true }),
      osls(['deploy', 'function', '--function', 'login', '--stage', 'local'], { credentials: true }),
      osls(['rollback', '--timestamp', '1700000000000', '--stage', 'local'], { credentials: true }),
      osls(['deploy', '--stage', SANDBOX], { credentials: true }),
    ])
    expectRefusal(runs[0]!, 'deploy', 'local')
    expectRefusal(runs[1]!, 'deploy function', 'local')
    expectRefusal(runs[2]!, 'rollback', 'local')
    expectRefusal(runs[3]!, 'deploy', SANDBOX)
    expect(requests).toEqual([])
  }, 60_000)

  it('leaves the other commands alone: print and package still work for stage local', async () => {
    const print = await osls(['print', '--stage', 'local'])
    expect(print.code, print.output).toBe(0)
    expect(print.output).toContain('service: attune-auth')
    const packaged = await packageStage({ root: ROOT, files: FILES, stage: 'local', parameters: {} })
    try {
      const functions = Object.values(packaged.resources).filter((resource) => resource.Type === 'AWS::Lambda::Function')
      expect(functions.length).toBeGreaterThan(0)
      expect(packaged.asked).toEqual([])
    } finally {
      await packaged.cleanup()
    }
  }, 90_000)
})
