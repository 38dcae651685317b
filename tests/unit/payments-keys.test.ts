import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { generatedKeys, KEYS_FILE } from '@/lib/payments/keys'

const dirs: string[] = []
const tempDir = () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'till-keys-'))
  dirs.push(dir)
  return dir
}
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true })
})

describe('payments.keys for the built-in emulator', () => {
  it('are random per storage folder, kept across restarts, and readable by the owner only', () => {
    const a = tempDir()
    const b = tempDir()
    const first = generatedKeys(a)
    expect(first.secretKey).toMatch(/^sk_test_emu[0-9a-f]{48}$/)
    expect(first.webhookSecret).toMatch(/^whsec_emu[0-9a-f]{48}$/)
    expect(generatedKeys(a)).toEqual(first)
    expect(generatedKeys(b).secretKey).not.toBe(first.secretKey)
    expect(fs.statSync(path.join(a, KEYS_FILE)).mode & 0o777).toBe(0o600)
    expect(fs.readdirSync(a)).toEqual([KEYS_FILE])
  })

  it('a second process finds the first one’s keys instead of writing its own', () => {
    const dir = tempDir()
    const mine = generatedKeys(dir)
    // Another process already wrote the file: this one must adopt it, whatever it made.
    fs.writeFileSync(path.join(dir, KEYS_FILE), JSON.stringify({ secretKey: 'sk_test_emuotherprocess00000000', webhookSecret: 'whsec_emuotherprocess000000000' }))
    expect(generatedKeys(dir)).toEqual({ secretKey: 'sk_test_emuotherprocess00000000', webhookSecret: 'whsec_emuotherprocess000000000' })
    expect(mine.secretKey).not.toBe('sk_test_emuotherprocess00000000')
  })

  it('refuses a damaged key file with a message that says what to do', () => {
    const dir = tempDir()
    fs.writeFileSync(path.join(dir, KEYS_FILE), '{"secretKey": "sk_test_till_emulator"')
    expect(() => generatedKeys(dir)).toThrow(/not a valid key file; delete it/)
  })
})
