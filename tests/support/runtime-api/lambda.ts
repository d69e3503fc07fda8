/**
 * A packaged function run the way Lambda's Node.js runtime runs it, with AWS's own loader: aws-lambda-ric (the
 * Runtime Interface Client AWS publishes on npm, the code of Lambda's Node.js runtimes) under the Node major of
 * the template's `Runtime`, from a folder of its own (Lambda's /var/lang and /var/runtime), against a stand-in
 * Runtime API (./server.ts). The code is the zip unpacked and made read-only (Lambda's /var/task), the current
 * folder is the code's, the environment is the template's variables plus the ones Lambda sets, and the process
 * runs as `nobody` (65534) when the tests run as root: Lambda's functions never run as root.
 */
import { execFile, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { chmod, copyFile, lstat, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { promisify } from 'node:util'
import { zipEntries, zipEntry } from '../zip.js'
import type { RuntimeOutcome } from './server.js'
import { startRuntimeApi } from './server.js'

/** `nobody:nogroup`: the user the functions run as when the tests run as root. */
export const FUNCTION_USER = { uid: 65534, gid: 65534 } as const

/** Whether this process is root: then the runtime is started as FUNCTION_USER. */
export const runningAsRoot = (): boolean => process.getuid?.() === 0

/** The user a function runs as here: FUNCTION_USER under root, this process's user otherwise. */
export const functionUid = (): number | undefined => (runningAsRoot() ? FUNCTION_USER.uid : process.getuid?.())

const spawnUser = () => (runningAsRoot() ? { ...FUNCTION_USER } : {})

export interface LambdaRuntime {
  major: number
  /** `node --version` of the runtime's Node. */
  version: string
  /** The runtime's Node (a copy, so that FUNCTION_USER may run it wherever npx keeps it). */
  node: string
  /** aws-lambda-ric's entry point. */
  entry: string
  dir: string
  cleanup(): Promise<void>
}

const run = promisify(execFile)

/** This process's Node when it is `major`, else `npx -y node@<major>`'s (as .ci/run gets the runtime's Node). */
async function nodeBinary(major: number): Promise<string> {
  if (Number(process.versions.node.split('.')[0]) === major) return process.execPath
  const { stdout } = await run('npx', ['-y', `node@${major}`, '-p', 'process.execPath'], { timeout: 5 * 60_000 })
  return stdout.trim().split('\n').at(-1) ?? ''
}

/** chmod -R a-w (`writable` false) or u+w (true). */
async function setWritable(path: string, writable: boolean): Promise<void> {
  const info = await lstat(path)
  if (info.isSymbolicLink()) return
  const mode = info.mode & 0o7777
  if (info.isDirectory()) {
    if (writable) await chmod(path, mode | 0o700)
    for (const entry of await readdir(path)) await setWritable(join(path, entry), writable)
    if (!writable) await chmod(path, mode & ~0o222)
  } else {
    await chmod(path, writable ? mode | 0o200 : mode & ~0o222)
  }
}

/** Removes a folder made read-only here. */
export async function removeReadOnly(dir: string): Promise<void> {
  await setWritable(dir, true).catch(() => {})
  await rm(dir, { recursive: true, force: true })
}

/** A temporary folder that FUNCTION_USER may enter (mkdtemp makes it 0700). */
export async function sharedTempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix))
  await chmod(dir, 0o755)
  return dir
}

/** Node `major` and aws-lambda-ric (its bundled index.mjs and its native Runtime API client), read-only, in a temporary folder. */
export async function prepareRuntime(major: number): Promise<LambdaRuntime> {
  const dir = await sharedTempDir(`attune-lambda-nodejs${major}-`)
  try {
    const ric = dirname(createRequire(import.meta.url).resolve('aws-lambda-ric/package.json'))
    const native = join(ric, 'rapid-client.node')
    if (!(await lstat(native).catch(() => undefined))) {
      throw new Error(
        `${native} is missing: npm install builds it (aws-lambda-ric needs cmake, make, g++, python3, autoconf, automake and libtool)`,
      )
    }
    const node = join(dir, 'bin', 'node')
    const runtime = join(dir, 'runtime')
    await mkdir(dirname(node))
    await mkdir(runtime)
    await copyFile(await nodeBinary(major), node)
    await chmod(node, 0o755)
    for (const file of ['index.mjs', 'package.json', 'rapid-client.node']) await copyFile(join(ric, file), join(runtime, file))
    await setWritable(dir, false)
    const version = (await run(node, ['--version'])).stdout.trim()
    if (!version.startsWith(`v${major}.`)) throw new Error(`node@${major} is ${version}`)
    return { major, version, node, entry: join(runtime, 'index.mjs'), dir, cleanup: () => removeReadOnly(dir) }
  } catch (error) {
    await removeReadOnly(dir)
    throw error
  }
}

/** A function as the CloudFormation template describes it, with its code unpacked. */
export interface LambdaFunction {
  /** FunctionName. */
  name: string
  /** Handler, e.g. `functions/jwks.handler`. */
  handler: string
  /** Runtime, e.g. `nodejs24.x`. */
  runtime: string
  /** Timeout, seconds. */
  timeout: number
  memorySize: number
  /** Environment.Variables, as the template has them (a CloudFormation function is not a value: see invokeFunction). */
  variables: Record<string, unknown>
  /** The unpacked, read-only code (Lambda's /var/task). */
  taskRoot: string
}

/** The AWS::Lambda::Function of the template whose Handler is `handler`, its zip (in `zips`) unpacked read-only under `into`. */
export async function unpackFunction(
  resources: Record<string, { Type: string; Properties: Record<string, any> }>,
  handler: string,
  zips: string,
  into: string,
): Promise<LambdaFunction> {
  const found = Object.values(resources).find((r) => r.Type === 'AWS::Lambda::Function' && r.Properties['Handler'] === handler)
  if (!found) throw new Error(`no function with Handler ${handler} in the template`)
  const p = found.Properties
  const zipName = String(p['Code']?.['S3Key'] ?? '')
    .split('/')
    .at(-1) as string
  const zip = await readFile(join(zips, zipName))
  const taskRoot = await mkdtemp(join(into, `${zipName.replace(/\.zip$/, '')}-`))
  for (const name of zipEntries(zip)) {
    if (name.endsWith('/')) continue
    await mkdir(dirname(join(taskRoot, name)), { recursive: true })
    await writeFile(join(taskRoot, name), zipEntry(zip, name), { mode: 0o644 })
  }
  await chmod(taskRoot, 0o755)
  await setWritable(taskRoot, false)
  return {
    name: p['FunctionName'],
    handler: p['Handler'],
    runtime: p['Runtime'],
    timeout: p['Timeout'],
    memorySize: p['MemorySize'],
    variables: p['Environment']?.['Variables'] ?? {},
    taskRoot,
  }
}

export interface FunctionRun {
  outcome: RuntimeOutcome
  /** The runtime process's real user id while it ran (/proc/<pid>/status); undefined where there is no /proc. */
  uid: number | undefined
  /** Whether the runtime asked for the next event after answering: the invocation did not bring it down. */
  askedAgain: boolean
  /** Requests the stand-in Runtime API does not know. */
  unexpected: string[]
  /** What the runtime and the function wrote (the function's logs). */
  output: string
}

/** The template's variables with `overrides`, then what Lambda sets itself (a function cannot set those). */
function lambdaEnvironment(runtime: LambdaRuntime, fn: LambdaFunction, api: string, overrides: Record<string, string>) {
  const variables: Record<string, string> = {}
  for (const [name, value] of Object.entries({ ...fn.variables, ...overrides })) {
    if (typeof value !== 'string') {
      throw new Error(`${fn.name}: ${name} is ${JSON.stringify(value)} in the template, not a value: give the test one`)
    }
    variables[name] = value
  }
  return {
    ...variables,
    PATH: `${dirname(runtime.node)}:/usr/local/bin:/usr/bin/:/bin`,
    LANG: 'en_US.UTF-8',
    TZ: ':UTC',
    LAMBDA_TASK_ROOT: fn.taskRoot,
    LAMBDA_RUNTIME_DIR: dirname(runtime.entry),
    NODE_PATH: [join(dirname(runtime.entry), 'node_modules'), dirname(runtime.entry), fn.taskRoot].join(':'),
    _HANDLER: fn.handler,
    AWS_LAMBDA_RUNTIME_API: api,
    AWS_EXECUTION_ENV: `AWS_Lambda_nodejs${runtime.major}.x`,
    AWS_LAMBDA_FUNCTION_NAME: fn.name,
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(fn.memorySize),
    AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${fn.name}`,
    AWS_LAMBDA_LOG_STREAM_NAME: `${new Date().toISOString().slice(0, 10).replaceAll('-', '/')}/[$LATEST]${randomBytes(16).toString('hex')}`,
    AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
    AWS_REGION: 'us-east-1',
    AWS_DEFAULT_REGION: 'us-east-1',
  }
}

const uidOf = async (pid: number | undefined): Promise<number | undefined> => {
  const status = pid === undefined ? '' : await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '')
  const uid = status.match(/^Uid:\s+(\d+)/m)?.[1]
  return uid === undefined ? undefined : Number(uid)
}

const MAX_OUTPUT = 200_000

/**
 * One cold start and one invocation of `fn` with `event`: the runtime's first answer, and whether it then asked for
 * the next event. `overrides` replace the template's variables (e.g. DATABASE_URL).
 */
export async function invokeFunction(
  runtime: LambdaRuntime,
  fn: LambdaFunction,
  event: unknown,
  overrides: Record<string, string> = {},
): Promise<FunctionRun> {
  const api = await startRuntimeApi({
    event,
    functionArn: `arn:aws:lambda:us-east-1:123456789012:function:${fn.name}`,
    timeoutMs: fn.timeout * 1000,
  })
  let output = ''
  try {
    const env = lambdaEnvironment(runtime, fn, api.address, overrides)
    // Flags of the kind Lambda's Node.js bootstrap passes (the RIC keeps exactly these from its worker threads): a heap
    // limit from MemorySize (90% here, an approximation of Lambda's own sizing).
    const flags = ['--expose-gc', '--max-http-header-size=81920', `--max-old-space-size=${Math.floor(fn.memorySize * 0.9)}`]
    const child = spawn(runtime.node, [...flags, runtime.entry], {
      cwd: fn.taskRoot,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      ...spawnUser(),
    })
    const collect = (chunk: Buffer): void => {
      if (output.length < MAX_OUTPUT) output += chunk.toString('utf8')
    }
    child.stdout.on('data', collect)
    child.stderr.on('data', collect)
    const exited = new Promise<string>((resolve) => {
      child.on('exit', (code, signal) => resolve(`exited (${signal ?? code})`))
      child.on('error', (error) => resolve(`could not start (${error.message})`))
    })
    const finished = exited.then(() => undefined)
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<string>((resolve) => {
      timer = setTimeout(() => resolve('did not answer in time'), fn.timeout * 1000 + 15_000)
    })
    try {
      const first = await Promise.race([api.outcome, exited, timeout])
      if (typeof first === 'string') throw new Error(`${fn.name}: the runtime ${first} before answering; its output:\n${output}`)
      clearTimeout(timer)
      const askedAgain = await Promise.race([
        api.askedAgain.then(() => true),
        finished.then(() => false),
        new Promise<boolean>((resolve) => {
          timer = setTimeout(() => resolve(false), 5_000)
        }),
      ])
      const uid = await uidOf(child.pid)
      return { outcome: first, uid, askedAgain, unexpected: api.unexpected, output }
    } finally {
      clearTimeout(timer)
      child.kill('SIGKILL')
      await finished
    }
  } finally {
    await api.close()
  }
}

/** What writing a file in `dir` as the functions' user gives: `written`, or the error code (EACCES on read-only code). */
export async function writeAsFunctionUser(runtime: LambdaRuntime, dir: string): Promise<string> {
  const script = `try { require('node:fs').writeFileSync(require('node:path').join(process.argv[1], 'written-by-the-function'), 'x'); console.log('written') } catch (e) { console.log(e.code) }`
  return new Promise((resolve, reject) => {
    execFile(runtime.node, ['-e', script, dir], { cwd: dir, env: { PATH: '/usr/bin:/bin' }, ...spawnUser() }, (error, stdout) =>
      error ? reject(error) : resolve(stdout.trim()),
    )
  })
}
