// npm run db:seed — with SEED_DEMO=1, seed the demo catalog into an empty store (PostgreSQL's at
// DATABASE_URL when it is set, else STORAGE_DIR's), migrating it first.
import { seedDemoCatalog } from '@/demo/seed'
import { bootConfig, bootDatabase } from '@/lib/platform/boot'

async function main() {
  const env = bootConfig()
  if (!env.seedDemo) {
    console.log('seed: SEED_DEMO is not set; nothing to do.')
    return
  }
  const database = await bootDatabase(env)
  try {
    const result = await seedDemoCatalog(env.storageDir)
    console.log(result ? `seed: demo catalog ready (${JSON.stringify(result)})` : 'seed: the catalog already has products; left as it is.')
  } finally {
    await database.close()
  }
}

main().catch((err: unknown) => {
  console.error('seed: FAILED', err instanceof Error ? err.message : err)
  process.exit(1)
})
