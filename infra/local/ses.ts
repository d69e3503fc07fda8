/**
 * The local SES v2 (aws-ses-v2-local): the SES API the mailer's SDK client sends to, and a web page listing
 * every mail it received (GET /, and the JSON at GET /store). Used by `npm start` and by the tests.
 */
import type { Server } from 'node:http'
import sesModule from 'aws-ses-v2-local'

/** The package is CommonJS with `exports.default`: Node's ESM loader hands over the whole exports object. */
const start = ((sesModule as unknown as { default?: typeof sesModule }).default ?? sesModule) as typeof sesModule

/** Starts it on `port` (0: any free one) of 127.0.0.1. */
export function startSes(port: number): Promise<Server> {
  return start({ host: '127.0.0.1', port })
}
