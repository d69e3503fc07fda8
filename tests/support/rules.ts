/** Every auth rule of one app, as the functions build them, for tests that call the rules directly. */
import * as v from 'valibot'
import type { App } from '../../lib/app.js'
import type { CredentialRules } from '../../lib/auth/credentials.js'
import { createCredentialRules } from '../../lib/auth/credentials.js'
import type { Registration } from '../../lib/auth/registration.js'
import { createRegistration } from '../../lib/auth/registration.js'
import type { LoginInput, RegisterInput } from '../../lib/auth/requests.js'
import { LoginBody, RegisterBody } from '../../lib/auth/requests.js'
import type { SessionRules } from '../../lib/auth/sessions.js'
import { createSessionRules } from '../../lib/auth/sessions.js'
import { withMailKick } from '../../lib/email/parts.js'
import { loginSkeleton } from '../../lib/logins/skeleton.js'
import { withChallenges } from '../../lib/mfa/challenges.js'
import { passwordHashing } from '../../lib/passwords/hashing.js'

export type AllRules = SessionRules & CredentialRules & Registration

export function rulesOf(app: App): AllRules {
  return {
    ...createSessionRules(app),
    ...createCredentialRules(withChallenges(app), passwordHashing),
    ...createRegistration(withMailKick(app), { passwords: passwordHashing, skeleton: loginSkeleton }),
  }
}

/** A login request body as the route parses it (the login canonicalised). */
export const loginInput = (login: string, password: string): LoginInput => v.parse(LoginBody, { login, password })

export const registerInput = (login: string, password: string, display_name?: string): RegisterInput =>
  v.parse(RegisterBody, { login, password, display_name })
