// npm run db:backup — take one verified online backup of STORAGE_DIR/store.sqlite3 into
// STORAGE_DIR/backups/, then prune old ones (BACKUP_KEEP_HOURLY, BACKUP_KEEP_DAILY).
// Safe while the server runs: SQLite's backup API reads a consistent snapshot.
import fs from 'node:fs'
import path from 'node:path'
import { STORE_FILE } from '@/db'
import * as backups from '@/lib/platform/backups'
import { bootConfig } from '@/lib/platform/boot'
import * as storage from '@/lib/platform/storage'

const env = bootConfig()
if (env.databaseUrl) {
  console.error('db:backup: the store runs on PostgreSQL (DATABASE_URL); this command backs up SQLite\'s store only. Back PostgreSQL up with its own tools (docs/scale-out.md, "Backups on PostgreSQL").')
  process.exit(2)
}
if (!fs.existsSync(path.join(env.storageDir, STORE_FILE))) {
  console.error(`db:backup: no database at ${path.join(env.storageDir, STORE_FILE)}`)
  process.exit(1)
}
// A restore must not replace the database while this copies it.
storage.holdInUse(env.storageDir)
backups
  .run()
  .then((backup) => {
    const pruned = backups.prune()
    console.log(JSON.stringify({ backup: { path: backup.path, bytes: backup.bytes, durationMs: backup.durationMs, orders: backup.rows.orders }, pruned }, null, 2))
    process.exit(0)
  })
  .catch((err: unknown) => {
    console.error('db:backup: FAILED', err instanceof Error ? err.message : err)
    process.exit(1)
  })
