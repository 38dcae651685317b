import { afterEach, describe, expect, it, vi } from 'vitest'
import { getDb, refuseSqlite, setDb } from '@/db'
import { resetEnv } from '@/lib/env'
import { bootConfig } from '@/lib/platform/boot'

// The first step of every boot (the server's instrumentation and every script): the
// configuration, and the engine it names. DATABASE_URL set means PostgreSQL, and then no
// SQLite store exists in the process (lib/platform/boot.ts, decision 048).

const saved = { DATABASE_URL: process.env.DATABASE_URL, STORAGE_DIR: process.env.STORAGE_DIR }

afterEach(() => {
  vi.restoreAllMocks()
  for (const [key, value] of Object.entries(saved)) {
    if (value === undefined) delete process.env[key]
    else process.env[key] = value
  }
  resetEnv()
  // what bootConfig decided stays on globalThis; the next test file starts with no engine chosen
  refuseSqlite(undefined)
  setDb(undefined)
})

/** What bootConfig() printed before it stopped the process, and the exit code; process.exit throws so the test goes on. */
function bootStopping(): { code: number | undefined; printed: string } {
  let code: number | undefined
  vi.spyOn(process, 'exit').mockImplementation(((c?: number) => {
    code = c
    throw new Error('process.exit')
  }) as typeof process.exit)
  const printed: string[] = []
  vi.spyOn(console, 'error').mockImplementation((...args: unknown[]) => void printed.push(args.map(String).join(' ')))
  expect(() => bootConfig()).toThrow('process.exit')
  return { code, printed: printed.join('\n') }
}

describe('bootConfig', () => {
  it('stops boot on a malformed DATABASE_URL with one plain message naming it, never its password', () => {
    for (const [bad, says] of [
      ['mysql://till:s3cret@db/shop', /must start with postgres:\/\/ or postgresql:\/\//],
      ['postgres://till:s3cret@db1,db2/shop', /names 2 hosts/],
      ['postgres://till:s3cret@db/shop?statement_timeout=5', /has an unknown parameter/],
    ] as const) {
      process.env.DATABASE_URL = bad
      resetEnv()
      const { code, printed } = bootStopping()
      expect(code, bad).toBe(1)
      expect(printed, bad).toMatch(/^till: cannot start\.\nInvalid configuration:\n {2}- DATABASE_URL: /)
      expect(printed, bad).toMatch(says)
      expect(printed, bad).toContain('Use a postgres:// URL')
      expect(printed, bad).not.toContain('s3cret')
      vi.restoreAllMocks()
    }
  })

  it('takes a valid DATABASE_URL as the engine: the boot goes on, and no SQLite store is opened in STORAGE_DIR', () => {
    process.env.DATABASE_URL = 'postgres://till:s3cret@127.0.0.1:5432/till'
    resetEnv()
    const env = bootConfig()
    expect(env.databaseUrl?.hosts).toEqual([{ host: '127.0.0.1', port: 5432 }])
    setDb(undefined)
    expect(() => getDb()).toThrow(/^db: the store runs on PostgreSQL \(DATABASE_URL\), and this code still uses the SQLite connection/)
  })
})
