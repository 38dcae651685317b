// npm run db:seed — with SEED_DEMO=1, seed the demo catalog into an empty database.
import { getDb } from '@/db'
import { migrate } from '@/db/migrate'
import { seedDemo } from '@/demo/seed'
import { bootConfig } from '@/lib/platform/boot'

const env = bootConfig()
if (!env.seedDemo) {
  console.log('seed: SEED_DEMO is not set; nothing to do.')
} else {
  const db = getDb()
  migrate(db.$client)
  const result = seedDemo(db, env.storageDir)
  console.log(result ? `seed: demo catalog ready (${JSON.stringify(result)})` : 'seed: the catalog already has products; left as it is.')
  db.$client.close()
}
