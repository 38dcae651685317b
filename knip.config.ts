import type { KnipConfig } from 'knip'

// Unused files and dependencies (`npm run knip`, part of `npm test`). Next, Vitest,
// Playwright, ESLint and drizzle-kit entry points are found by knip's plugins; the entries
// below are what runs outside them.
const config: KnipConfig = {
  entry: [
    // the front server, bundled by scripts/postbuild.mjs
    'server/start.ts',
    // command-line tools run by package.json scripts through tsx or bundled by build:ops
    'scripts/*.{ts,mjs}',
    'demo/*.ts',
    // started as child processes by path (bench/index.ts, tests/support/*.ts), so no import shows them
    'bench/lib/raw-server.mjs',
    'bench/photo-catalog.ts',
    'tests/support/scheduled-worker.ts',
    'tests/support/stripe-server-cli.ts',
  ],
  project: ['**/*.{ts,tsx,mjs}'],
  // drizzle-kit's two configs: SQLite's default one and PostgreSQL's (npm run db:generate:pg)
  drizzle: { config: ['drizzle.config.ts', 'drizzle.pg.config.ts'] },
  // The bench's baseline: a separate minimal Next app, built and started by bench/lib/minimal-app.ts.
  ignore: ['bench/minimal-app/**'],
  // Loaded by app/globals.css (`@import "tailwindcss"`), which knip does not read.
  ignoreDependencies: ['tailwindcss'],
}

export default config
