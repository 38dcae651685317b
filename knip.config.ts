import type { KnipConfig } from 'knip'

// Unused files, dependencies, exports and types (`npm run knip`, part of `npm test`): knip's
// default checks, plus the exports of a module imported as a namespace (`import * as orders`)
// whose namespace object is passed around whole, where knip cannot see which members are read
// and by default says nothing. An export only its own file uses is reported too: drop the
// `export`. Next, Vitest, Playwright, ESLint and drizzle-kit entry points are found by knip's
// plugins (Next's covers the conventional exports of pages, layouts and routes); the entries
// below are what runs outside them.
const config: KnipConfig = {
  include: ['nsExports', 'nsTypes'],
  entry: [
    // the front server, bundled by scripts/postbuild.mjs
    'server/start.ts',
    // command-line tools run by package.json scripts through tsx or bundled by build:ops
    'scripts/*.{ts,mjs}',
    'demo/*.ts',
    // started as child processes by path (bench/index.ts, tests/support/*.ts), so no import shows them
    'bench/lib/raw-server.mjs',
    'bench/photo-catalog.ts',
    // run by hand with tsx; their figures are in docs/decisions/047-generator-transactions.md
    'bench/inventory-steps.ts',
    'bench/cart-view.ts',
    'bench/catalog-reads.ts',
    'bench/order-reads.ts',
    'bench/checkout-start.ts',
    // run by hand with tsx; its figures are in docs/decisions/049-files-in-the-database.md
    'bench/stored-files.ts',
    'tests/support/scheduled-worker.ts',
    'tests/support/group-commit-writer.ts',
    'tests/support/stripe-server-cli.ts',
  ],
  // CSS included so knip reads app/globals.css and sees its `@import "tailwindcss"`.
  project: ['**/*.{ts,tsx,mjs,css}'],
  // drizzle-kit's two configs: SQLite's default one and PostgreSQL's (npm run db:generate:pg)
  drizzle: { config: ['drizzle.config.ts', 'drizzle.pg.config.ts'] },
  // The bench's baseline: a separate minimal Next app, built and started by bench/lib/minimal-app.ts.
  ignore: ['bench/minimal-app/**'],
}

export default config
