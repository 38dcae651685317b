// npm run reconcile — run Stripe reconciliation once against STORAGE_DIR and print the report.
import { bootConfig, bootStorage } from '@/lib/platform/boot'
import { LEASE_TTL_MS } from '@/lib/jobs'
import { withLease } from '@/lib/jobs/lease'
import * as reconcile from '@/lib/reconcile'

const env = bootConfig()
// A server's boot checks, and the storage folder held so a restore never runs under this.
bootStorage(env)
if (env.payments === 'emulator' && !env.isStripeApiExternal) {
  console.error('reconcile: PAYMENTS=emulator is served by the running app; start it (npm start) or set STRIPE_API_BASE.')
}
// The same lease as the scheduled reconcile (lib/jobs), so a run by hand never overlaps one a
// server started: two runs would read the same pages and race on the cursor.
withLease(reconcile.LEASE, LEASE_TTL_MS, () => reconcile.run(Date.now(), { walkSessions: 'always' }))
  .then((result) => {
    if (!result.acquired) {
      const until = result.expiresAt ? new Date(result.expiresAt).toISOString() : 'unknown'
      console.error(`reconcile: another reconcile is running (${result.holder ?? 'unknown holder'}, lease until ${until}); try again shortly.`)
      process.exit(75)
    }
    const report = result.value
    console.log(JSON.stringify(report, null, 2))
    const capped = report.capped.length ? `; CAPPED (${report.capped.join(', ')}): the cursor was kept, run again` : ''
    console.log(
      `reconcile: ${report.eventsSeen} events, ${report.sessionsSeen} sessions (${report.sessionsFetched} read from Stripe), ` +
        `${report.ordersCreated} orders created, ${report.failures.length} failures, ${report.stripeCalls} Stripe calls${capped}`,
    )
    process.exit(report.failures.length || report.capped.length ? 1 : 0)
  })
  .catch((err: unknown) => {
    console.error('reconcile: failed', err)
    process.exit(1)
  })
