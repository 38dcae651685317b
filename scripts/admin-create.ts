// npm run admin:create -- owner@example.com — creates an admin in the store: PostgreSQL's at
// DATABASE_URL when it is set, else STORAGE_DIR's. The password is read from ADMIN_PASSWORD,
// or typed at the prompt, never from the command line (where it would stay in the shell
// history and the process list).
import readline from 'node:readline'
import * as adminAuth from '@/lib/admin-auth'
import { bootConfig, bootDatabase } from '@/lib/platform/boot'
import { InvalidInput } from '@/lib/errors'

async function ask(question: string): Promise<string> {
  const rl = readline.createInterface({ input: process.stdin, output: process.stderr })
  return new Promise((resolve) => rl.question(question, (answer) => (rl.close(), resolve(answer))))
}

async function main() {
  // The configuration takes ADMIN_PASSWORD only with ADMIN_EMAIL (a server would otherwise
  // start with no admin); here the email given on the command line is that pair's other half.
  if (process.argv[2] && process.env.ADMIN_PASSWORD && !process.env.ADMIN_EMAIL) process.env.ADMIN_EMAIL = process.argv[2]
  const env = bootConfig()
  // Migrated as a server's boot would (on PostgreSQL under its advisory lock), so a first admin
  // can be made before the first server starts.
  const database = await bootDatabase(env)
  try {
    const email = process.argv[2] ?? env.adminEmail ?? (await ask('Admin email: '))
    const password = env.adminPassword ?? (await ask(`Password (at least ${adminAuth.MIN_PASSWORD} characters): `))
    const admin = await adminAuth.createAdmin(email, password)
    console.log(`admin:create: created ${admin.email} (id ${admin.id}${database.engine === 'postgres' ? ', on PostgreSQL' : ''})`)
  } finally {
    await database.close()
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof InvalidInput ? `admin:create: ${err.message}` : err)
  process.exit(1)
})
