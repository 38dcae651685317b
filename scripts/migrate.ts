// npm run db:migrate — apply pending migrations to STORAGE_DIR/store.sqlite3.
import { getDb } from '@/db'
import { migrate } from '@/db/migrate'
import { bootConfig } from '@/lib/boot'

const env = bootConfig()
const result = migrate(getDb().$client)
console.log(`migrate: ${env.storageDir}/store.sqlite3 at schema version ${result.schemaVersion} (${result.latest}); applied now: ${result.applied.join(', ') || 'none'}`)
getDb().$client.close()
