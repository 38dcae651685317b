// npm run admin:reset-2fa -- someone@example.com — for a person who lost both their phone and
// their recovery codes: turns their second factor off and signs them out everywhere, from the
// server itself (whoever can run this already holds the database). They then sign in with
// their password and set it up again; the audit log records the reset.
import { bootConfig, bootDatabase } from '@/lib/platform/boot'
import { NotFound } from '@/lib/errors'
import * as twoFactor from '@/lib/two-factor'

async function main() {
  const email = process.argv[2]
  if (!email) throw new Error('usage: npm run admin:reset-2fa -- someone@example.com')
  // the store's engine: PostgreSQL's at DATABASE_URL when it is set, else STORAGE_DIR's
  const database = await bootDatabase(bootConfig())
  try {
    const user = await twoFactor.reset(email, 'server console (admin:reset-2fa)')
    console.log(`admin:reset-2fa: two-factor sign-in is off for ${user.email} (id ${user.id}); their sessions have ended`)
  } finally {
    await database.close()
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof NotFound || (err instanceof Error && err.message.startsWith('usage')) ? `admin:reset-2fa: ${err.message}` : err)
  process.exit(1)
})
