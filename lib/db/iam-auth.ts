/**
 * IAM database authentication (DATABASE_AUTH=iam): RDS Proxy, or RDS and Aurora directly, accept a 15-minute token
 * signed with the function's own role in place of a password. No database password then exists in the
 * application's configuration, and the managed master secret's rotation never breaks it. The token is RDS's
 * `rds-db:connect` presigned URL without its scheme, what @aws-sdk/rds-signer makes; signed here with aws4fetch
 * (already in every bundle for the secrets, lib/secrets.ts), checked against the SDK's signer by a unit test.
 * postgres.js asks for it at every new connection (its `password` may be a function), so it is always fresh.
 */
import { AwsClient } from 'aws4fetch'

/** Seconds a token works for opening connections (RDS's maximum); open connections outlive it. */
export const TOKEN_SECONDS = 900

/** The function's own credentials (its role's, from the Lambda environment) and region: lib/config.ts reads them. */
export interface AwsCredentials {
  accessKeyId: string
  secretAccessKey: string
  sessionToken: string | undefined
  region: string
}

export interface IamTokenTarget {
  host: string
  port: number
  user: string
}

/** An authentication token for `user` at `host:port`, signed now (or at `datetime`, `YYYYMMDDTHHMMSSZ`, for tests). */
export async function iamAuthToken(
  { host, port, user }: IamTokenTarget,
  { accessKeyId, secretAccessKey, sessionToken, region }: AwsCredentials,
  datetime?: string,
): Promise<string> {
  const aws = new AwsClient({ accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}), service: 'rds-db', region })
  const url = new URL(`https://${host}:${port}/`)
  url.searchParams.set('Action', 'connect')
  url.searchParams.set('DBUser', user)
  url.searchParams.set('X-Amz-Expires', String(TOKEN_SECONDS))
  const signed = await aws.sign(url.toString(), { method: 'GET', aws: { signQuery: true, ...(datetime ? { datetime } : {}) } })
  return signed.url.replace(/^https:\/\//, '')
}
