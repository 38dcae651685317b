import 'server-only'
import crypto from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { getEnv } from '@/lib/env'

// The credentials this process talks to the payment server with. With Stripe they come from
// the environment. With the built-in emulator and no keys given, they are random and kept
// per storage folder (emulator-keys.json, readable by this user only): a fixed, published
// key would let anyone who can reach a demo list its sessions, with emails and addresses,
// mark them paid, and point its webhooks elsewhere.

export type Keys = { secretKey: string; webhookSecret: string }

export const KEYS_FILE = 'emulator-keys.json'

const globalForKeys = globalThis as unknown as { tillPaymentKeys?: Keys }

export function keys(): Keys {
  if (!globalForKeys.tillPaymentKeys) {
    const env = getEnv()
    globalForKeys.tillPaymentKeys =
      env.stripeSecretKey && env.stripeWebhookSecret
        ? { secretKey: env.stripeSecretKey, webhookSecret: env.stripeWebhookSecret }
        : generatedKeys(env.storageDir)
  }
  return globalForKeys.tillPaymentKeys
}

/** Tests and scripts that change the environment forget the keys of the previous one. */
export function resetKeys(): void {
  globalForKeys.tillPaymentKeys = undefined
}

/**
 * The storage folder's emulator keys, made on first use. Two processes booting at once on
 * one folder agree: the file is written under a temporary name and linked into place only
 * if none exists yet, so the first one wins and the second reads it.
 */
export function generatedKeys(storageDir: string): Keys {
  const file = path.join(/*turbopackIgnore: true*/ storageDir, KEYS_FILE)
  const existing = readKeys(file)
  if (existing) return existing
  fs.mkdirSync(storageDir, { recursive: true })
  const fresh: Keys = {
    secretKey: `sk_test_emu${crypto.randomBytes(24).toString('hex')}`,
    webhookSecret: `whsec_emu${crypto.randomBytes(24).toString('hex')}`,
  }
  const temp = `${file}.${process.pid}.${crypto.randomBytes(4).toString('hex')}`
  fs.writeFileSync(temp, JSON.stringify(fresh), { mode: 0o600 })
  try {
    fs.linkSync(temp, file)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
  } finally {
    fs.rmSync(temp, { force: true })
  }
  const settled = readKeys(file)
  if (!settled) throw new Error(`payments: ${file} is not a valid key file; delete it to make new keys`)
  return settled
}

function readKeys(file: string): Keys | null {
  if (!fs.existsSync(file)) return null
  try {
    const parsed = JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<Keys>
    if (typeof parsed.secretKey === 'string' && /^sk_test_\w{16,}$/.test(parsed.secretKey) && typeof parsed.webhookSecret === 'string' && /^whsec_\w{16,}$/.test(parsed.webhookSecret)) {
      return { secretKey: parsed.secretKey, webhookSecret: parsed.webhookSecret }
    }
  } catch {
    // reported below as not valid
  }
  return null
}
