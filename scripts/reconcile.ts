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
  .run()
  .then((report) => {
    console.log(JSON.stringify(report, null, 2))
    process.exit(report.failures.length ? 1 : 0)
  })
  .catch((err: unknown) => {
    console.error('reconcile: failed', err)
    process.exit(1)
  })
