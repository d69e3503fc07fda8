/**
 * Another team's API behind our authorizer, as route-requirement tests need it: an API id of the test's own,
 * its requirements declared through `npm run admin` and a file (as a consuming team would), and the REST
 * REQUEST event API Gateway sends the authorizer for one of its routes.
 */
import { randomUUID } from 'node:crypto'
import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { APIGatewayRequestAuthorizerEvent } from 'aws-lambda'
import { runAdmin } from '../../infra/admin.js'
import { getApp } from '../../lib/app.js'
import { requestAuthorizerEvent } from './events.js'

export interface ConsumingApi {
  /** API Gateway's kind of id: ten letters and digits. */
  id: string
  /** The execute-api ARN of `METHOD path` on its `prod` stage. */
  arn: (method: string, path: string) => string
}

export function freshApi(): ConsumingApi {
  const id = randomUUID().replace(/-/g, '').slice(0, 10)
  return { id, arn: (method, path) => `arn:aws:execute-api:us-east-1:123456789012:${id}/prod/${method}${path}` }
}

/** `npm run admin -- <argv>` against the test database: the lines it prints. */
export const admin = (...argv: string[]): Promise<string[]> => runAdmin(argv, getApp().sql)

/** Makes the API's requirements exactly these, with `set-route-requirements` and a file. */
export async function declare(apiId: string, requirements: ReadonlyArray<Record<string, unknown>>): Promise<string[]> {
  const file = join(await mkdtemp(join(tmpdir(), 'attune-rr-')), 'route-requirements.json')
  await writeFile(file, JSON.stringify({ requirements }))
  return admin('set-route-requirements', apiId, file)
}

/** The REST REQUEST event for `method path` of the API, with this Authorization header (none when undefined). */
export function restEvent(
  api: ConsumingApi,
  method: string,
  path: string,
  authorization: string | undefined,
): APIGatewayRequestAuthorizerEvent {
  const event = requestAuthorizerEvent(authorization === undefined ? {} : { Authorization: authorization })
  Object.assign(event, { methodArn: api.arn(method, path), path, httpMethod: method })
  Object.assign(event.requestContext, { apiId: api.id, stage: 'prod', path: `/prod${path}`, httpMethod: method })
  return event
}
