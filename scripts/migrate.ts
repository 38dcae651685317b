// npm run db:migrate — apply pending migrations to STORAGE_DIR/store.sqlite3.
import { getDb } from '@/db'
import { bootConfig, bootStorage } from '@/lib/platform/boot'

const env = bootConfig()
// The same checks as a server's boot: local disk, WAL, a schema this release knows.
const { result } = bootStorage(env)
console.log(`migrate: ${env.storageDir}/store.sqlite3 at schema version ${result.schemaVersion} (${result.latest}); applied now: ${result.applied.join(', ') || 'none'}`)
getDb().$client.close()
