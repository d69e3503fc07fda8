/** What the provider sign-in and linking functions build once per container: the providers and the repository. */
import type { App } from '../app.js'
import { getOAuthConfig } from '../config.js'
import { createFederatedIdentityRepository } from '../db/federated-identities.js'
import { createProviders } from './providers.js'
import type { OAuthDependencies } from './sign-in.js'

export function oauthParts(app: App): App & Pick<OAuthDependencies, 'oauth' | 'providers' | 'federated'> & { now: () => number } {
  const oauth = getOAuthConfig()
  return {
    ...app,
    oauth,
    providers: createProviders(oauth),
    federated: createFederatedIdentityRepository(app.sql, app.config.sessions),
    now: () => Date.now(),
  }
}
