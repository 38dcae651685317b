import nextVitals from 'eslint-config-next/core-web-vitals'
import nextTs from 'eslint-config-next/typescript'

// The layers, enforced: routes -> domain -> data, with payments and the emulator beside.
// Each rule names the layer it protects; tests/unit/boundaries.test.ts proves every rule
// fires on a file that crosses it.
const toData = { group: ['@/db', '@/db/*', '**/db', '**/db/*', 'better-sqlite3', 'drizzle-orm', 'drizzle-orm/*'], message: 'app/ calls lib/; only lib/ and db/ touch the database.' }
const toStripe = { group: ['stripe', 'stripe/*', '@/lib/payments/*', '**/payments/*'], message: 'Stripe is reached only through lib/payments (import from @/lib/payments).' }
const toEmulatorInternals = { group: ['@/emulator/*', '**/emulator/*'], message: 'The emulator is reached only through its index (@/emulator).' }
const toEmulator = { group: ['@/emulator', '**/emulator'], message: 'Only boot and the two emulator route files may reach the payments emulator.' }
const toApp = { group: ['@/app', '@/app/*', '**/app/*'], message: 'lib/ and db/ never import routes or UI.' }
const toLib = { group: ['@/lib', '@/lib/*', '**/lib/*'], message: 'db/ depends on nothing in lib/: pass what it needs in.' }
const toStore = { group: ['@/lib', '@/lib/*', '@/db', '@/db/*', '@/app', '@/app/*', '**/lib/*', '**/db/*', '**/app/*'], message: 'The emulator stands beside the store and imports nothing of it.' }

// Payments is the Stripe gateway: Stripe's calls, credentials, signature check and the
// translation into the store's own facts. It knows nothing of the domain or the database;
// lib/orders calls it, never the other way. Only config, logging, errors and money are shared.
const toDomain = {
  group: ['@/lib/*', '!@/lib/env', '!@/lib/log', '!@/lib/errors', '!@/lib/money', '../*', '!../env', '!../log', '!../errors', '!../money', '@/db', '@/db/*', '**/db', '**/db/*', 'better-sqlite3', 'drizzle-orm', 'drizzle-orm/*'],
  message: 'lib/payments imports nothing of the domain or the database (only env, log, errors and money): the domain calls payments, never the other way.',
}

// The front server (server/) stands in front of the app and starts it; the app knows only the
// contract between them (server/contract.ts). The request guard is the HTTP edge's own
// checks, shared with proxy.ts and the routes that read their own bodies.
const toFrontServer = { group: ['@/server/*', '!@/server/contract', '**/server/*', '!**/server/contract'], message: 'lib/ and db/ never import the front server (server/): only its contract, @/server/contract.' }

// lib/ has its rooms (decision 038): the domain (the nouns at its root, orders/, jobs/, mail/;
// payments/ its gateway), lib/platform/ (the process and its operations: boot, shutdown, health,
// storage, backups, failpoints) and lib/request/ (what a request brings: who is asking, how
// often, the signed message after a redirect, a form's one-time key). env, log, errors and
// money at lib/'s root are shared by every room.
// The process's start and end sit on top: only instrumentation.ts and the command-line tools
// boot it, and only boot installs the shutdown.
const processGroup = ['@/lib/platform/boot', '@/lib/platform/shutdown', '**/platform/boot', '**/platform/shutdown']
const toProcess = { group: processGroup, message: 'Only the process entries (instrumentation.ts, scripts/) boot the process, and only boot installs its shutdown.' }
const toProcessWithin = { group: [...processGroup, './boot', './shutdown'], message: toProcess.message }
// The platform runs the domain (boot starts it, shutdown stops its jobs); the domain never
// reaches back into the process. The scheduled work (lib/jobs/handlers.ts) is the one place
// that runs an operation, the nightly backup.
const toPlatform = { group: ['@/lib/platform', '@/lib/platform/*', '**/platform', '**/platform/*'], message: 'The domain never imports lib/platform/ (the process and its operations): the platform calls the domain, not the other way.' }
// lib/request/ sits under the domain and the platform, which both call it; it knows neither.
const toRoomsAbove = {
  group: ['@/lib/*', '!@/lib/env', '!@/lib/log', '!@/lib/errors', '!@/lib/money', '../*', '!../env', '!../log', '!../errors', '!../money'],
  message: 'lib/request/ imports nothing of the domain or the platform (only env, log, errors and money): they call it, never the other way.',
}

// The shop's links prefetch on intent, not on sight (decision 043): its pages use the shop's
// Link. The admin keeps Next's own.
const toNextLink = { group: ['next/link'], message: "The shop's pages link with Link from @/app/_components/shop-link, which prefetches when a shopper reaches for a link (decision 043)." }

const restrict = (...patterns) => ({ 'no-restricted-imports': ['error', { patterns }] })

const config = [
  ...nextVitals,
  ...nextTs,
  {
    ignores: ['.next/**', 'node_modules/**', 'storage/**', 'test-results/**', 'playwright-report/**', 'next-env.d.ts'],
  },
  { files: ['app/**/*.{ts,tsx}'], rules: restrict(toData, toStripe, toEmulator, toEmulatorInternals, toProcess, toNextLink) },
  { files: ['app/admin/**/*.{ts,tsx}', 'app/_components/shop-link.tsx'], rules: restrict(toData, toStripe, toEmulator, toEmulatorInternals, toProcess) },
  // The two route files that serve the built-in emulator.
  { files: ['app/v1/**/route.ts', 'app/emulator/**/route.ts'], rules: restrict(toData, toStripe, toEmulatorInternals, toProcess) },
  { files: ['lib/**/*.ts'], ignores: ['lib/payments/**', 'lib/platform/**', 'lib/request/**'], rules: restrict(toApp, toStripe, toEmulator, toEmulatorInternals, toFrontServer, toPlatform) },
  // The scheduled work runs the nightly backup.
  { files: ['lib/jobs/handlers.ts'], rules: restrict(toApp, toStripe, toEmulator, toEmulatorInternals, toFrontServer, toProcess) },
  { files: ['lib/payments/**/*.ts'], rules: restrict(toApp, toDomain, toEmulator, toEmulatorInternals, toFrontServer) },
  { files: ['lib/platform/**/*.ts'], rules: restrict(toApp, toStripe, toEmulator, toEmulatorInternals, toFrontServer, toProcessWithin) },
  // Boot starts the built-in emulator and installs the shutdown.
  { files: ['lib/platform/boot.ts'], rules: restrict(toApp, toStripe, toEmulatorInternals, toFrontServer) },
  { files: ['lib/request/**/*.ts'], rules: restrict(toApp, toStripe, toEmulator, toEmulatorInternals, toFrontServer, toRoomsAbove) },
  { files: ['db/**/*.ts'], rules: restrict(toApp, toLib, toStripe, toEmulator, toEmulatorInternals, toFrontServer) },
  { files: ['emulator/**/*.ts'], rules: restrict(toStore) },
  { files: ['demo/**/*.ts'], rules: restrict(toApp, toStripe, toEmulator, toEmulatorInternals) },
  { files: ['tests/**/*.ts', 'bench/**/*.ts', 'scripts/**/*.{ts,mjs}'], rules: restrict(toEmulatorInternals) },
  {
    // Two mistakes the build or a page only reveals late, caught on the branch instead:
    // a message written into a URL by hand is unsigned, so the page never shows it (messages
    // travel through lib/request/flash.ts, which signs them); and the admin's ui.tsx is server-only,
    // so a client component importing it breaks the build (client code takes its styles from
    // app/admin/_components/styles.ts).
    files: ['app/**/*.{ts,tsx}', 'lib/**/*.ts'],
    ignores: ['lib/request/flash.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        { selector: 'TemplateElement[value.raw=/[?&](notice|error)=/]', message: 'Messages in a URL are signed: use flash.href(url, kind, text), done() or fail() (lib/request/flash.ts), not ?notice=/?error= by hand.' },
        { selector: 'Literal[value=/[?&](notice|error)=/]', message: 'Messages in a URL are signed: use flash.href(url, kind, text), done() or fail() (lib/request/flash.ts), not ?notice=/?error= by hand.' },
        { selector: "CallExpression[callee.property.name=/^(set|append)$/][arguments.0.value=/^(notice|error)$/]", message: 'Messages in a URL are signed: use flash.href(url, kind, text) (lib/request/flash.ts), not searchParams.set by hand.' },
        { selector: "Program:has(> ExpressionStatement[directive='use client']) ImportDeclaration[source.value=/(^|\\/)_components\\/ui(\\.tsx)?$/]", message: 'app/admin/_components/ui.tsx is server-only: a client component takes its styles from app/admin/_components/styles.ts.' },
        // A transaction body of db/tx.ts is a generator typed with SQLite's builder; the builder's
        // own .get()/.all()/.run() would work on SQLite and fail on PostgreSQL (decision 047).
        // A body is the generator given to transaction, read or runNow, or a generator helper whose
        // first parameter is the body's builder (tx or db); other generators (a CSV stream) are not.
        { selector: ':matches(CallExpression[callee.name=/^(transaction|read|runNow)$/] > FunctionExpression[generator=true], :matches(FunctionDeclaration, FunctionExpression)[generator=true][params.0.name=/^(tx|db)$/]) CallExpression[callee.type="MemberExpression"][callee.property.name=/^(get|all|run)$/][arguments.length=0]', message: "A body of db/tx.ts runs its queries with yield* get(query), all(query) or run(query): the builder's own .get(), .all() and .run() exist on SQLite only." },
      ],
    },
  },
  {
    // Playwright fixtures receive a function named `use`; it is not a React hook.
    files: ['tests/**/*.ts'],
    rules: { 'react-hooks/rules-of-hooks': 'off' },
  },
  {
    files: ['**/*.{ts,tsx,mjs}'],
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
]

export default config
