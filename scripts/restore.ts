// npm run db:restore -- <backup file> — replace STORAGE_DIR/store.sqlite3 with a verified
// backup, then reconcile with Stripe so orders paid since the backup come back. Refuses
// while any server uses the storage folder; stop the app first.
import * as backups from '@/lib/platform/backups'
import { bootConfig } from '@/lib/platform/boot'

if (bootConfig().databaseUrl) {
  console.error('db:restore: the store runs on PostgreSQL (DATABASE_URL); this command restores SQLite\'s store only. Restore PostgreSQL with its own tools (docs/scale-out.md, "Backups on PostgreSQL").')
  process.exit(2)
}
const file = process.argv[2]
if (!file) {
  console.error('usage: npm run db:restore -- <backup file>   (npm run db:backup writes them to STORAGE_DIR/backups/)')
  process.exit(2)
}
backups
  .restore(file)
  .then((report) => {
    console.log(JSON.stringify(report, null, 2))
    const failures = 'failures' in report.reconcile ? report.reconcile.failures : 0
    process.exit(failures ? 1 : 0)
  })
  .catch((err: unknown) => {
    console.error(`db:restore: refused or failed: ${err instanceof Error ? err.message : String(err)}`)
    process.exit(1)
  })
