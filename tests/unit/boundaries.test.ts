import path from 'node:path'
import { ESLint } from 'eslint'
import { beforeAll, describe, expect, it } from 'vitest'

// The layer rules in eslint.config.mjs, proved: each fixture is a file placed (virtually) in
// one layer that imports across a forbidden boundary, and lint must fail on it; the same
// imports from a layer that may make them must pass.

const root = path.resolve(import.meta.dirname, '../..')
const eslint = new ESLint({ cwd: root })

async function lint(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: path.join(root, filePath) })
  return (result?.messages ?? []).filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message)
}

const forbidden: { from: string; code: string; says: RegExp }[] = [
  { from: 'app/(shop)/x/page.tsx', code: "import { getDb } from '@/db'\nexport const x = getDb", says: /only lib\/ and db\/ touch the database/ },
  { from: 'app/(shop)/x/page.tsx', code: "import Database from 'better-sqlite3'\nexport const x = Database", says: /touch the database/ },
  { from: 'app/(shop)/x/page.tsx', code: "import Stripe from 'stripe'\nexport const x = Stripe", says: /only through lib\/payments/ },
  { from: 'app/(shop)/x/page.tsx', code: "import { client } from '@/lib/payments/stripe'\nexport const x = client", says: /only through lib\/payments/ },
  { from: 'app/(shop)/x/page.tsx', code: "import { serve } from '@/emulator'\nexport const x = serve", says: /Only boot and the two emulator route files/ },
  { from: 'app/v1/[...path]/route.ts', code: "import { handleRequest } from '@/emulator/http'\nexport const x = handleRequest", says: /only through its index/ },
  { from: 'lib/orders/order.ts', code: "import Stripe from 'stripe'\nexport const x = Stripe", says: /only through lib\/payments/ },
  { from: 'lib/orders/order.ts', code: "import { client } from './payments/stripe'\nexport const x = client", says: /only through lib\/payments/ },
  { from: 'lib/checkout.ts', code: "import { startBuiltIn } from '@/emulator'\nexport const x = startBuiltIn", says: /Only boot/ },
  { from: 'lib/catalog.ts', code: "import Page from '@/app/(shop)/page'\nexport const x = Page", says: /never import routes or UI/ },
  { from: 'lib/payments/stripe.ts', code: "import { serve } from '@/emulator'\nexport const x = serve", says: /Only boot/ },
  { from: 'lib/payments/stripe.ts', code: "import * as orders from '@/lib/orders'\nexport const x = orders", says: /lib\/payments imports nothing of the domain/ },
  { from: 'lib/payments/stripe.ts', code: "import { applySession } from '@/lib/orders/order'\nexport const x = applySession", says: /imports nothing of the domain/ },
  { from: 'lib/payments/facts.ts', code: "import type { OrderStatus } from '../../db/schema'\nexport type X = OrderStatus", says: /imports nothing of the domain or the database/ },
  { from: 'lib/payments/keys.ts', code: "import * as inventory from '../inventory'\nexport const x = inventory", says: /imports nothing of the domain/ },
  { from: 'lib/payments/stripe.ts', code: "import { write } from '@/db'\nexport const x = write", says: /imports nothing of the domain or the database/ },
  { from: 'db/index.ts', code: "import { getEnv } from '@/lib/env'\nexport const x = getEnv", says: /db\/ depends on nothing in lib/ },
  { from: 'db/schema.ts', code: "import { log } from '../lib/log'\nexport const x = log", says: /db\/ depends on nothing in lib/ },
  { from: 'emulator/api.ts', code: "import { write } from '@/db'\nexport const x = write", says: /imports nothing of it/ },
  { from: 'emulator/api.ts', code: "import { getEnv } from '@/lib/env'\nexport const x = getEnv", says: /imports nothing of it/ },
  { from: 'lib/cache.ts', code: "import { createResponseCache } from '@/server/response-cache'\nexport const x = createResponseCache", says: /never import the front server/ },
  { from: 'lib/orders/order.ts', code: "import { checkMethod } from '../server/request-guard'\nexport const x = checkMethod", says: /never import the front server/ },
  { from: 'lib/boot.ts', code: "import { tooLarge } from '@/server/request-guard'\nexport const x = tooLarge", says: /never import the front server/ },
  { from: 'tests/unit/x.test.ts', code: "import { Store } from '@/emulator/store'\nexport const x = Store", says: /only through its index/ },
]

const allowed: { from: string; code: string }[] = [
  { from: 'app/(shop)/x/page.tsx', code: "import * as payments from '@/lib/payments'\nexport const x = payments" },
  { from: 'app/v1/[...path]/route.ts', code: "export { serveBuiltIn as GET } from '@/emulator'" },
  { from: 'lib/boot.ts', code: "import { startBuiltIn } from '@/emulator'\nexport const x = startBuiltIn" },
  { from: 'lib/payments/stripe.ts', code: "import Stripe from 'stripe'\nexport const x = Stripe" },
  { from: 'lib/payments/stripe.ts', code: "import { getEnv } from '@/lib/env'\nimport { log } from '@/lib/log'\nimport { InvalidSignature } from '@/lib/errors'\nimport { formatMoney } from '../money'\nexport const x = [getEnv, log, InvalidSignature, formatMoney]" },
  { from: 'lib/orders/intake.ts', code: "import * as payments from '@/lib/payments'\nexport const x = payments" },
  { from: 'lib/orders/order.ts', code: "import { write } from '@/db'\nexport const x = write" },
  { from: 'lib/cache.ts', code: "import { frontCache } from '@/server/contract'\nexport const x = frontCache" },
  { from: 'proxy.ts', code: "import { checkMethod } from '@/server/request-guard'\nexport const x = checkMethod" },
  { from: 'emulator/api.ts', code: "import Stripe from 'stripe'\nexport const x = Stripe" },
  { from: 'tests/unit/x.test.ts', code: "import { serve } from '@/emulator'\nexport const x = serve" },
]

describe('layer boundaries (eslint no-restricted-imports)', () => {
  // Loading the config and its plugins takes seconds on a busy machine; pay it once.
  beforeAll(() => lint('lib/x.ts', 'export {}'), 120_000)

  it.each(forbidden)('refuses $from importing across a boundary: $code', async ({ from, code, says }) => {
    const messages = await lint(from, code)
    expect(messages.length).toBeGreaterThan(0)
    expect(messages.join('\n')).toMatch(says)
  })

  it.each(allowed)('lets $from make an allowed import: $code', async ({ from, code }) => {
    expect(await lint(from, code)).toEqual([])
  })
})
