// npm run reconcile — run Stripe reconciliation once against STORAGE_DIR and print the report.
import { bootConfig, bootStorage } from '@/lib/boot'
import * as reconcile from '@/lib/reconcile'

const env = bootConfig()
// A server's boot checks, and the storage folder held so a restore never runs under this.
bootStorage(env)
if (env.payments === 'emulator' && !env.isStripeApiExternal) {
  console.error('reconcile: PAYMENTS=emulator is served by the running app; start it (npm start) or set STRIPE_API_BASE.')
}
reconcile
  .run(Date.now(), { walkSessions: 'always' })
  .then((report) => {
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
