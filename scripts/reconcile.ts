// npm run reconcile — run Stripe reconciliation once against the store's database (PostgreSQL's
// at DATABASE_URL when it is set, else STORAGE_DIR's) and print the report.
import { bootConfig, bootDatabase } from '@/lib/platform/boot'
import { LEASE_TTL_MS } from '@/lib/jobs'
import { withLease } from '@/lib/jobs/lease'
import * as reconcile from '@/lib/reconcile'

async function main(): Promise<number> {
  const env = bootConfig()
  // A server's boot checks; on SQLite the storage folder is held, so a restore never runs under this.
  const database = await bootDatabase(env)
  if (env.payments === 'emulator' && !env.isStripeApiExternal) {
    console.error('reconcile: PAYMENTS=emulator is served by the running app; start it (npm start) or set STRIPE_API_BASE.')
  }
  try {
    // The same lease as the scheduled reconcile (lib/jobs), so a run by hand never overlaps one a
    // server started: two runs would read the same pages and race on the cursor.
    const result = await withLease(reconcile.LEASE, LEASE_TTL_MS, () => reconcile.run(Date.now(), { walkSessions: 'always' }))
    if (!result.acquired) {
      const until = result.expiresAt ? new Date(result.expiresAt).toISOString() : 'unknown'
      console.error(`reconcile: another reconcile is running (${result.holder ?? 'unknown holder'}, lease until ${until}); try again shortly.`)
      return 75
    }
    const report = result.value
    console.log(JSON.stringify(report, null, 2))
    const capped = report.capped.length ? `; CAPPED (${report.capped.join(', ')}): the cursor was kept, run again` : ''
    console.log(
      `reconcile: ${report.eventsSeen} events, ${report.sessionsSeen} sessions (${report.sessionsFetched} read from Stripe), ` +
        `${report.ordersCreated} orders created, ${report.failures.length} failures, ${report.stripeCalls} Stripe calls${capped}`,
    )
    return report.failures.length || report.capped.length ? 1 : 0
  } finally {
    await database.close()
  }
}

main()
  .then((code) => process.exit(code))
  .catch((err: unknown) => {
    console.error('reconcile: failed', err)
    process.exit(1)
  })
