// npm run build:ops — bundle the operations scripts (migrate, reconcile, backup, restore,
// admin-create, admin-unlock, admin-reset-2fa) into .next/standalone/ops/*.cjs, so the
// production image runs them with plain node and
// without tsx or the dev dependencies. better-sqlite3 stays external: it is a native module,
// and the standalone build already ships it in .next/standalone/node_modules, which node
// finds from ops/ by walking up.
import fs from 'node:fs'
import path from 'node:path'
import { build } from 'esbuild'

const root = process.cwd()
const standalone = path.join(root, '.next', 'standalone')
if (!fs.existsSync(path.join(standalone, 'node_modules', 'better-sqlite3'))) {
  console.error('build:ops: .next/standalone/node_modules/better-sqlite3 is missing; run `npm run build` first.')
  process.exit(1)
}
const scripts = ['migrate', 'reconcile', 'backup', 'restore', 'admin-create', 'admin-unlock', 'admin-reset-2fa']
await build({
  entryPoints: Object.fromEntries(scripts.map((s) => [s, path.join(root, 'scripts', `${s}.ts`)])),
  outdir: path.join(standalone, 'ops'),
  outExtension: { '.js': '.cjs' },
  bundle: true,
  platform: 'node',
  // lib/ modules are marked server-only; these scripts are server code.
  conditions: ['react-server'],
  target: 'node20',
  format: 'cjs',
  // next is in the standalone node_modules too; lib/ imports its cache helpers.
  external: ['better-sqlite3', 'next', 'next/*'],
  tsconfig: path.join(root, 'tsconfig.json'),
  logLevel: 'warning',
})
console.log(`build:ops: ${scripts.map((s) => `.next/standalone/ops/${s}.cjs`).join(', ')}`)
