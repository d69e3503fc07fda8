/**
 * A route's path parameters (`{id}`, `{name}`, ...), checked: a value that does not match what such a thing looks
 * like is answered with the 404 of the route's resource (what cannot exist is simply not found), never a 400.
 */
import type { Reason } from '@attune-auth/client/errors'
import { ApiError } from '@attune-auth/client/errors'
import { IDENTITY_ID, UUID } from '@attune-auth/client/ids'

export type PathParameters = Record<string, string | undefined> | null

/** The parameter `name` as written, when it matches `pattern`; else the 404 of `reason`. */
export function pathParameter(parameters: PathParameters, name: string, pattern: RegExp, reason: Reason): string {
  const value = parameters?.[name]
  if (typeof value !== 'string' || !pattern.test(value)) throw new ApiError(reason)
  return value
}

/** A UUID parameter in any letter case, lower-cased; else the 404 of `reason`. */
export const uuidParameter = (parameters: PathParameters, name: string, reason: Reason): string =>
  pathParameter({ [name]: parameters?.[name]?.toLowerCase() }, name, UUID, reason)

/** An identity id parameter, as a number; else the 404 of `reason`. */
export const identityParameter = (parameters: PathParameters, name: string, reason: Reason): number =>
  Number(pathParameter(parameters, name, IDENTITY_ID, reason))
