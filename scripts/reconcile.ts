// npm run reconcile — run Stripe reconciliation once against STORAGE_DIR and print the report.
import { getDb } from '@/db'
import { migrate } from '@/db/migrate'
import { bootConfig } from '@/lib/boot'
import * as reconcile from '@/lib/reconcile'
import * as storage from '@/lib/storage'

const env = bootConfig()
// A restore must not replace the database under this run.
storage.holdInUse(env.storageDir)
migrate(getDb().$client)
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
