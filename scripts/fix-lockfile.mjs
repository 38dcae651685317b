// The registry reachable here has no prebuilt binaries for other platforms (darwin, win32,
// android…), so `npm install` leaves those optional dependencies out of package-lock.json and
// `npm ci` on a clean clone then refuses the lockfile ("Missing: @next/swc-darwin-arm64").
// This adds each missing optional dependency as an optional, platform-tagged entry, which
// npm ci accepts and skips on platforms it does not match. Run after every `npm install`.
import fs from 'node:fs'

const file = 'package-lock.json'
const lock = JSON.parse(fs.readFileSync(file, 'utf8'))
const packages = lock.packages

const PLATFORM = [
  [/darwin/, { os: ['darwin'] }],
  [/win32|windows/, { os: ['win32'] }],
  [/linux/, { os: ['linux'] }],
  [/android/, { os: ['android'] }],
  [/freebsd/, { os: ['freebsd'] }],
  [/openbsd/, { os: ['openbsd'] }],
  [/netbsd/, { os: ['netbsd'] }],
  [/sunos/, { os: ['sunos'] }],
  [/aix/, { os: ['aix'] }],
  [/openharmony/, { os: ['openharmony'] }],
  [/wasm32|wasi/, { cpu: ['wasm32'] }],
]
const CPU = [
  [/arm64|aarch64/, ['arm64']],
  [/x64|x86_64|amd64/, ['x64']],
  [/ia32|x86(?!_64)/, ['ia32']],
  [/arm(?!64)|armv7|gnueabihf|eabi/, ['arm']],
  [/riscv64/, ['riscv64']],
  [/ppc64/, ['ppc64']],
  [/s390x/, ['s390x']],
  [/loong64/, ['loong64']],
  [/mips64el/, ['mips64el']],
]

function platformOf(name) {
  const tags = {}
  for (const [re, t] of PLATFORM) if (re.test(name)) Object.assign(tags, t)
  if (!tags.cpu) for (const [re, cpu] of CPU) if (re.test(name)) { tags.cpu = cpu; break }
  return tags
}

let added = 0
for (const [location, entry] of Object.entries(packages)) {
  for (const [name, spec] of Object.entries(entry.optionalDependencies ?? {})) {
    const nested = `${location ? location + '/' : ''}node_modules/${name}`
    const hoisted = `node_modules/${name}`
    if (packages[nested] || packages[hoisted]) continue
    const version = String(spec).replace(/^[\^~=]/, '')
    if (!/^\d+\.\d+\.\d+/.test(version)) continue
    packages[hoisted] = { version, optional: true, ...platformOf(name) }
    added++
  }
}
fs.writeFileSync(file, JSON.stringify(lock, null, 2) + '\n')
console.log(`fix-lockfile: added ${added} optional platform entries`)
