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
  { from: 'app/(shop)/x/page.tsx', code: "import Link from 'next/link'\nexport const x = Link", says: /prefetches when a shopper reaches for a link/ },
  { from: 'app/_components/x.tsx', code: "import Link from 'next/link'\nexport const x = Link", says: /shop-link/ },
  { from: 'lib/orders/order.ts', code: "import Stripe from 'stripe'\nexport const x = Stripe", says: /only through lib\/payments/ },
  { from: 'lib/orders/order.ts', code: "import { client } from './payments/stripe'\nexport const x = client", says: /only through lib\/payments/ },
  { from: 'lib/checkout.ts', code: "import { startBuiltIn } from '@/emulator'\nexport const x = startBuiltIn", says: /Only boot/ },
  { from: 'lib/catalog.ts', code: "import Page from '@/app/(shop)/page'\nexport const x = Page", says: /never import routes or UI/ },
  { from: 'lib/payments/stripe.ts', code: "import { serve } from '@/emulator'\nexport const x = serve", says: /Only boot/ },
  { from: 'lib/payments/stripe.ts', code: "import * as orders from '@/lib/orders'\nexport const x = orders", says: /lib\/payments imports nothing of the domain/ },
  { from: 'lib/payments/stripe.ts', code: "import { applyingSession } from '@/lib/orders/order'\nexport const x = applyingSession", says: /imports nothing of the domain/ },
  { from: 'lib/payments/facts.ts', code: "import type { OrderStatus } from '../../db/schema'\nexport type X = OrderStatus", says: /imports nothing of the domain or the database/ },
  { from: 'lib/payments/keys.ts', code: "import * as inventory from '../inventory'\nexport const x = inventory", says: /imports nothing of the domain/ },
  { from: 'lib/payments/stripe.ts', code: "import { write } from '@/db'\nexport const x = write", says: /imports nothing of the domain or the database/ },
  { from: 'db/index.ts', code: "import { getEnv } from '@/lib/env'\nexport const x = getEnv", says: /db\/ depends on nothing in lib/ },
  { from: 'db/schema.ts', code: "import { log } from '../lib/log'\nexport const x = log", says: /db\/ depends on nothing in lib/ },
  { from: 'emulator/api.ts', code: "import { write } from '@/db'\nexport const x = write", says: /imports nothing of it/ },
  { from: 'emulator/api.ts', code: "import { getEnv } from '@/lib/env'\nexport const x = getEnv", says: /imports nothing of it/ },
  { from: 'lib/cache.ts', code: "import { createResponseCache } from '@/server/response-cache'\nexport const x = createResponseCache", says: /never import the front server/ },
  { from: 'lib/orders/order.ts', code: "import { checkMethod } from '../server/request-guard'\nexport const x = checkMethod", says: /never import the front server/ },
  { from: 'lib/platform/boot.ts', code: "import { tooLarge } from '@/server/request-guard'\nexport const x = tooLarge", says: /never import the front server/ },
  { from: 'tests/unit/x.test.ts', code: "import { Store } from '@/emulator/store'\nexport const x = Store", says: /only through its index/ },
  // lib/'s rooms (decision 038): the process on top, the domain, the request's helpers under both
  { from: 'app/(shop)/x/page.tsx', code: "import { boot } from '@/lib/platform/boot'\nexport const x = boot", says: /Only the process entries/ },
  { from: 'app/api/x/route.ts', code: "import { installSignalHandlers } from '@/lib/platform/shutdown'\nexport const x = installSignalHandlers", says: /only boot installs its shutdown/ },
  { from: 'lib/orders/order.ts', code: "import * as health from '@/lib/platform/health'\nexport const x = health", says: /The domain never imports lib\/platform/ },
  { from: 'lib/cache.ts', code: "import * as storage from './platform/storage'\nexport const x = storage", says: /The domain never imports lib\/platform/ },
  { from: 'lib/jobs/handlers.ts', code: "import { boot } from '@/lib/platform/boot'\nexport const x = boot", says: /Only the process entries/ },
  { from: 'lib/platform/health.ts', code: "import { boot } from './boot'\nexport const x = boot", says: /Only the process entries/ },
  { from: 'lib/platform/backups.ts', code: "import { installSignalHandlers } from '@/lib/platform/shutdown'\nexport const x = installSignalHandlers", says: /only boot installs its shutdown/ },
  { from: 'lib/request/flash.ts', code: "import * as orders from '@/lib/orders'\nexport const x = orders", says: /lib\/request\/ imports nothing of the domain or the platform/ },
  { from: 'lib/request/client-address.ts', code: "import * as cart from '../cart'\nexport const x = cart", says: /lib\/request\/ imports nothing of the domain/ },
  { from: 'lib/request/rate-limit.ts', code: "import * as health from '../platform/health'\nexport const x = health", says: /lib\/request\/ imports nothing of the domain or the platform/ },
  { from: 'lib/payments/stripe.ts', code: "import * as storage from '@/lib/platform/storage'\nexport const x = storage", says: /lib\/payments imports nothing of the domain/ },
  { from: 'lib/payments/keys.ts', code: "import * as rateLimit from '../request/rate-limit'\nexport const x = rateLimit", says: /lib\/payments imports nothing of the domain/ },
  { from: 'db/index.ts', code: "import * as storage from '@/lib/platform/storage'\nexport const x = storage", says: /db\/ depends on nothing in lib/ },
]

const allowed: { from: string; code: string }[] = [
  { from: 'app/(shop)/x/page.tsx', code: "import * as payments from '@/lib/payments'\nexport const x = payments" },
  { from: 'app/v1/[...path]/route.ts', code: "export { serveBuiltIn as GET } from '@/emulator'" },
  { from: 'app/admin/(console)/x/page.tsx', code: "import Link from 'next/link'\nexport const x = Link" },
  { from: 'app/_components/shop-link.tsx', code: "import NextLink from 'next/link'\nexport const x = NextLink" },
  { from: 'lib/platform/boot.ts', code: "import { startBuiltIn } from '@/emulator'\nexport const x = startBuiltIn" },
  { from: 'lib/payments/stripe.ts', code: "import Stripe from 'stripe'\nexport const x = Stripe" },
  { from: 'lib/payments/stripe.ts', code: "import { getEnv } from '@/lib/env'\nimport { log } from '@/lib/log'\nimport { InvalidSignature } from '@/lib/errors'\nimport { formatMoney } from '../money'\nexport const x = [getEnv, log, InvalidSignature, formatMoney]" },
  { from: 'lib/orders/intake.ts', code: "import * as payments from '@/lib/payments'\nexport const x = payments" },
  { from: 'lib/orders/order.ts', code: "import { write } from '@/db'\nexport const x = write" },
  { from: 'lib/cache.ts', code: "import { frontCache } from '@/server/contract'\nexport const x = frontCache" },
  { from: 'proxy.ts', code: "import { checkMethod } from '@/server/request-guard'\nexport const x = checkMethod" },
  { from: 'emulator/api.ts', code: "import Stripe from 'stripe'\nexport const x = Stripe" },
  { from: 'tests/unit/x.test.ts', code: "import { serve } from '@/emulator'\nexport const x = serve" },
  { from: 'instrumentation.ts', code: "export const x = () => import('./lib/platform/boot')" },
  { from: 'scripts/backup.ts', code: "import { bootConfig } from '@/lib/platform/boot'\nexport const x = bootConfig" },
  { from: 'lib/platform/boot.ts', code: "import { installSignalHandlers } from './shutdown'\nimport * as payments from '@/lib/payments'\nimport * as cache from '@/lib/cache'\nexport const x = [installSignalHandlers, payments, cache]" },
  { from: 'lib/platform/health.ts', code: "import * as backups from './backups'\nimport * as clientAddress from '@/lib/request/client-address'\nexport const x = [backups, clientAddress]" },
  { from: 'lib/jobs/handlers.ts', code: "import * as backups from '@/lib/platform/backups'\nexport const x = backups" },
  { from: 'app/up/route.ts', code: "import * as health from '@/lib/platform/health'\nexport const x = health" },
  { from: 'lib/accounts.ts', code: "import * as rateLimit from '@/lib/request/rate-limit'\nimport * as flash from './request/flash'\nexport const x = [rateLimit, flash]" },
  { from: 'lib/request/rate-limit.ts', code: "import { write } from '@/db'\nimport { RateLimited } from '../errors'\nimport { getEnv } from '@/lib/env'\nexport const x = [write, RateLimited, getEnv]" },
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
