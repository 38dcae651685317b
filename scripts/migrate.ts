// npm run db:migrate — apply pending migrations to the store: PostgreSQL's at DATABASE_URL when
// it is set, else STORAGE_DIR/store.sqlite3.
import { getDb } from '@/db'
import { bootConfig, bootDatabase, bootStorage } from '@/lib/platform/boot'

async function main() {
  const env = bootConfig()
  if (!env.databaseUrl) {
    // The same checks as a server's boot: local disk, WAL, a schema this release knows.
    const { result } = bootStorage(env)
    console.log(`migrate: ${env.storageDir}/store.sqlite3 at schema version ${result.schemaVersion} (${result.latest}); applied now: ${result.applied.join(', ') || 'none'}`)
    getDb().$client.close()
    return
  }
  // The same as an app server's boot on PostgreSQL: a schema this release knows, migrated under
  // the advisory lock that lets app servers booting at the same moment take turns.
  const database = await bootDatabase(env)
  const hosts = env.databaseUrl.hosts.map((h) => `${h.host}:${h.port}`).join(', ')
  console.log(`migrate: PostgreSQL at ${hosts} (DATABASE_URL); applied now: ${database.applied.join(', ') || 'none'}`)
  await database.close()
}

main().catch((err: unknown) => {
  console.error('migrate: FAILED', err instanceof Error ? err.message : err)
  process.exit(1)
})
