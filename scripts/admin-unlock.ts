// npm run admin:unlock -- owner@example.com — the way back in from the server: forgets the
// failed sign-ins of that email from every address (or of every email, without one), so a
// locked-out owner can sign in at once. In production: `kamal app exec --reuse "node
// .next/standalone/ops/admin-unlock.cjs owner@example.com"` (docs/operations.md).
import * as adminAuth from '@/lib/admin-auth'
import { bootConfig, bootDatabase } from '@/lib/platform/boot'

async function main() {
  // the store's engine: PostgreSQL's at DATABASE_URL when it is set, else STORAGE_DIR's
  const database = await bootDatabase(bootConfig())
  try {
    const email = process.argv[2]
    const forgotten = await adminAuth.unlock(email)
    const what = email ? `of ${adminAuth.normalizeEmail(email)}` : 'of every email'
    console.log(`admin:unlock: forgot ${forgotten} failed sign-in${forgotten === 1 ? '' : 's'} ${what}`)
  } finally {
    await database.close()
  }
}

main().catch((err: unknown) => {
  console.error(err)
  process.exit(1)
})
