/**
 * Secrets read at run time from SSM Parameter Store, never from the template or the functions' configuration
 * (README "Configuration", docs/DEPLOY.md). A deployed function's environment holds only SECRETS_PATH
 * (`/attune-auth/<stage>`); each secret is the parameter `<SECRETS_PATH>/<name>` of SECRET_PARAMETERS (and
 * `oauth-<provider>-client-secret` for each provider in OAUTH_PROVIDERS), read with one GetParameters call per
 * ten names, decrypted by SSM. A parameter that does not exist leaves its variable unset, and the configuration
 * then fails closed as it would for a missing variable.
 *
 * The call is signed with aws4fetch (SigV4 over fetch, 7.5 KiB bundled, 6 ms to import) rather than the SDK the
 * runtime provides (@aws-sdk/client-ssm: 0 KiB bundled but about 100 ms to import at every cold start, measured in
 * docs/PERFORMANCE.md); a unit test checks its signature against the SDK's own signer.
 */
import { AwsClient } from 'aws4fetch'
import { PROVIDER_NAME, providerVariablePrefix } from './oauth/settings.js'

/** The variables whose values are secrets, and their parameters' names under SECRETS_PATH. */
export const SECRET_PARAMETERS: Readonly<Record<string, string>> = {
  JWT_SECRET: 'jwt-secret',
  JWT_PRIVATE_KEY: 'jwt-private-key',
  JWT_PREVIOUS_SECRET: 'jwt-previous-secret',
  PSEUDONYM_KEY: 'pseudonym-key',
  MFA_ENCRYPTION_KEYS: 'mfa-encryption-keys',
  DATABASE_URL: 'database-url',
}

/** The migrations' own login: only the migrate function reads it (the others' role is denied it, serverless.yml). */
export const MIGRATION_SECRET_PARAMETERS: Readonly<Record<string, string>> = { MIGRATION_DATABASE_URL: 'migration-database-url' }

/** Which secrets a function reads: every function the shared ones, the migrate function its own login too. */
export interface SecretScope {
  migration: boolean
}

/** GetParameters takes at most ten names (SSM's quota). */
const NAMES_PER_CALL = 10

type Environment = Readonly<Record<string, string | undefined>>

/** The variables to read and their full parameter names: the fixed secrets and each provider's client secret. */
export function secretParameters(env: Environment, path: string, scope: SecretScope = { migration: false }): Map<string, string> {
  const base = path.replace(/\/+$/, '')
  const names = { ...SECRET_PARAMETERS, ...(scope.migration ? MIGRATION_SECRET_PARAMETERS : {}) }
  const wanted = new Map(Object.entries(names).map(([variable, name]) => [variable, `${base}/${name}`]))
  for (const provider of (env['OAUTH_PROVIDERS'] ?? '').split(/[\s,]+/).filter((name) => PROVIDER_NAME.test(name))) {
    wanted.set(`${providerVariablePrefix(provider)}CLIENT_SECRET`, `${base}/oauth-${provider}-client-secret`)
  }
  return wanted
}

/** Thrown when SSM cannot be read: the request answers 503, the next one tries again. */
export class SecretsUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'SecretsUnavailableError'
  }
}

interface GetParametersAnswer {
  Parameters?: { Name: string; Value: string }[]
  InvalidParameters?: string[]
}

/**
 * The values of `names` (decrypted), by name; names with no parameter are absent. Credentials and region are
 * the function's own (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_REGION); SSM_ENDPOINT
 * points it at a stand-in.
 */
export async function readParameters(names: readonly string[], env: Environment): Promise<Map<string, string>> {
  const region = env['AWS_REGION'] ?? env['AWS_DEFAULT_REGION'] ?? 'us-east-1'
  const accessKeyId = env['AWS_ACCESS_KEY_ID']
  const secretAccessKey = env['AWS_SECRET_ACCESS_KEY']
  if (!accessKeyId || !secretAccessKey) throw new SecretsUnavailableError('no AWS credentials in the environment to read SSM with')
  const aws = new AwsClient({
    accessKeyId,
    secretAccessKey,
    ...(env['AWS_SESSION_TOKEN'] ? { sessionToken: env['AWS_SESSION_TOKEN'] } : {}),
    service: 'ssm',
    region,
    retries: 2,
  })
  const endpoint = env['SSM_ENDPOINT'] || `https://ssm.${region}.amazonaws.com/`
  const values = new Map<string, string>()
  for (let i = 0; i < names.length; i += NAMES_PER_CALL) {
    let response: Response
    try {
      response = await aws.fetch(endpoint, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-amz-json-1.1', 'X-Amz-Target': 'AmazonSSM.GetParameters' },
        body: JSON.stringify({ Names: names.slice(i, i + NAMES_PER_CALL), WithDecryption: true }),
        signal: AbortSignal.timeout(3000),
        // Every header signed, Content-Type included, as the SDK's signer does.
        aws: { allHeaders: true },
      })
    } catch (error) {
      throw new SecretsUnavailableError('SSM did not answer', { cause: error })
    }
    const text = await response.text()
    if (!response.ok) {
      // SSM's error type only (e.g. AccessDeniedException): never a parameter's value.
      const type = /"__type"\s*:\s*"([^"]+)"/.exec(text)?.[1] ?? 'unknown error'
      throw new SecretsUnavailableError(`SSM GetParameters answered ${response.status} ${type}`)
    }
    for (const parameter of (JSON.parse(text) as GetParametersAnswer).Parameters ?? []) values.set(parameter.Name, parameter.Value)
  }
  return values
}

/** `env` with every secret variable that is unset there filled from its parameter (a value set in `env` wins). */
export async function withSecrets(env: Environment, path: string, scope: SecretScope): Promise<Record<string, string | undefined>> {
  const wanted = [...secretParameters(env, path, scope)].filter(([variable]) => !env[variable]?.trim())
  const values = await readParameters(
    wanted.map(([, name]) => name),
    env,
  )
  const filled: Record<string, string | undefined> = { ...env }
  for (const [variable, name] of wanted) {
    const value = values.get(name)
    if (value !== undefined) filled[variable] = value
  }
  return filled
}
