/** `npm run migrate`: applies pending migrations to DATABASE_URL. */
import { getConfig } from '../lib/config.js'
import { migrate } from '../lib/db/migrate.js'

const applied = await migrate(getConfig().database.url, {
  onApplied: ({ id, name }) => console.log(`applied ${String(id).padStart(5, '0')} ${name}`),
})
console.log(applied.length === 0 ? 'schema is up to date' : `${applied.length} migration(s) applied`)
