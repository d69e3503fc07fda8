/**
 * A signed-in identity's provider accounts (Bearer): link one explicitly (the same PKCE flow as a sign-in,
 * started with a recent sign-in, its one-time code redeemable only by this identity), list them, unlink one
 * (never the last way in: an identity without a password keeps at least one provider).
 */
import { randomUUID } from 'node:crypto'
import { ApiError, stepUpRequired } from '@attune-auth/client/errors'
import type { AuthenticatedUser } from '@attune-auth/client/require-auth'
import type { LinkedIdentity } from '../db/federated-identities.js'
import { AlreadyLinkedError } from '../db/federated-identities.js'
import type { ClientInfo } from '../http/client.js'
import type { LinkInput } from './requests.js'
import { OAUTH_FLOW_TTL_SECONDS } from './settings.js'
import type { OAuthDependencies } from './sign-in.js'
import { providerNamed, redeemCode, startFlow } from './sign-in.js'

/** One entry of GET /auth/identities. */
export interface LinkedIdentityView {
  id: string
  provider: string
  email: string | null
  created: string
  last_used: string | null
}

export interface LinkStarted {
  authorization_url: string
  expires_in: number
}

const view = (link: LinkedIdentity): LinkedIdentityView => ({
  id: link.id,
  provider: link.provider,
  email: link.email,
  created: link.created.toISOString(),
  last_used: link.lastUsed?.toISOString() ?? null,
})

export type LinkDependencies = OAuthDependencies & {
  /** The clock (milliseconds since the epoch), for the recency of a sign-in. */
  now: () => number
}

export function createLinks(deps: LinkDependencies) {
  const { config, federated, logger, now } = deps

  /** Changing the ways in needs a sign-in within STEP_UP_MAX_AGE (RFC 9470's 401 otherwise). */
  function requireRecentSignIn(user: AuthenticatedUser): void {
    if (Math.floor(now() / 1000) - user.authTime > config.mfa.stepUpMaxAge) throw stepUpRequired({ maxAge: config.mfa.stepUpMaxAge })
  }

  return {
    async link(
      user: AuthenticatedUser,
      providerName: string,
      input: LinkInput,
      client: ClientInfo,
    ): Promise<LinkStarted | LinkedIdentityView> {
      const event = 'auth.oauth_link'
      providerNamed(deps.providers, providerName)
      if ('redirect_uri' in input) {
        requireRecentSignIn(user)
        const authorizationUrl = await startFlow(deps, providerName, input, user.identityId)
        return { authorization_url: authorizationUrl, expires_in: OAUTH_FLOW_TTL_SECONDS }
      }
      const account = await redeemCode(deps, input, client, user.identityId, event)
      if (account.provider !== providerName) throw new ApiError('oauth_code_invalid')
      try {
        const linked = await federated.link(user.identityId, randomUUID(), account, client, false)
        logger.info('provider account linked', { event, outcome: 'success', provider: providerName, identityId: user.identityId })
        return view(linked)
      } catch (error) {
        if (!(error instanceof AlreadyLinkedError)) throw error
        logger.info('provider account link refused', {
          event,
          outcome: 'failure',
          reason: 'identity_already_linked',
          provider: providerName,
        })
        throw new ApiError('identity_already_linked')
      }
    },

    async list(user: AuthenticatedUser): Promise<{ identities: LinkedIdentityView[]; has_password: boolean }> {
      const { linked, hasPassword } = await federated.list(user.identityId)
      return { identities: linked.map(view), has_password: hasPassword }
    },

    async unlink(user: AuthenticatedUser, linkId: string, client: ClientInfo): Promise<{ unlinked: true }> {
      requireRecentSignIn(user)
      const outcome = await federated.unlink(user.identityId, linkId, client)
      if (outcome === 'not_found') throw new ApiError('linked_identity_not_found')
      if (outcome === 'last_way_in') throw new ApiError('last_way_in')
      logger.info('provider account unlinked', { event: 'auth.oauth_unlink', outcome: 'success', identityId: user.identityId })
      return { unlinked: true }
    },
  }
}
