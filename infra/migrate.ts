/** `npm run migrate`: applies pending migrations to DATABASE_URL. */
import { getConfig } from '../lib/config.js'
import { bootstrapAdminKey, migrate } from '../lib/db/migrate.js'

const config = getConfig()
const applied = await migrate(config.database.url, {
  onApplied: ({ id, name }) => console.log(`applied ${String(id).padStart(5, '0')} ${name}`),
  bootstrapAdminKey: bootstrapAdminKey(config.bootstrapAdminLogin),
  onBootstrap: (outcome) => console.log(`BOOTSTRAP_ADMIN_LOGIN: ${outcome.replace(/_/g, ' ')}`),
})
console.log(applied.length === 0 ? 'schema is up to date' : `${applied.length} migration(s) applied`)
