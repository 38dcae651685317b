import 'server-only'
import crypto from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { FLASH_QUERY_KEYS } from '@/server/contract'
import { getEnv } from '@/lib/env'

// The message a form shows after its redirect (post/redirect/get, so every form works
// without JavaScript). It travels in the URL (?notice= or ?error=) with a signature the shop
// made for it (&flash=<expiry>.<mac>), and a page shows it only when the signature holds and
// has not expired: a link someone else wrote ("?error=Your password expired, email it to …")
// shows nothing, so the shop's own pages cannot be made to say what the shop never said.
// The key is random per storage folder (flash.key, readable by this user only), shared by
// both releases during a deploy.

export type Flash = { kind: (typeof FLASH_QUERY_KEYS)[number]; text: string }

/** How long a redirect's message stays showable: long enough for a slow page load, no more. */
export const TTL_SECONDS = 10 * 60
const MAX_TEXT = 300
const KEY_FILE = 'flash.key'

const globalForFlash = globalThis as unknown as { tillFlashKey?: { dir: string; key: Buffer } }

/** The storage folder's key, made on first use; two processes racing agree on the first one written. */
function key(): Buffer {
  const dir = getEnv().storageDir
  const cached = globalForFlash.tillFlashKey
  if (cached?.dir === dir) return cached.key
  const file = path.join(/*turbopackIgnore: true*/ dir, KEY_FILE)
  if (!fs.existsSync(file)) {
    fs.mkdirSync(dir, { recursive: true })
    const temp = `${file}.${process.pid}.${crypto.randomBytes(4).toString('hex')}`
    fs.writeFileSync(temp, crypto.randomBytes(32).toString('base64'), { mode: 0o600 })
    try {
      fs.linkSync(temp, file)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
    } finally {
      fs.rmSync(temp, { force: true })
    }
  }
  const value = Buffer.from(fs.readFileSync(file, 'utf8').trim(), 'base64')
  globalForFlash.tillFlashKey = { dir, key: value }
  return value
}

const clean = (text: string) => text.replace(/\s+/g, ' ').trim().slice(0, MAX_TEXT)

function mac(kind: Flash['kind'], text: string, expires: number): string {
  return crypto.createHmac('sha256', key()).update(`${kind}\n${expires}\n${text}`).digest('base64url').slice(0, 32)
}

/**
 * `back` (a path, with any query) carrying `message` for the page to show after the redirect:
 * other messages in it are dropped, this one is signed.
 */
export function href(back: string, kind: Flash['kind'], message: string, now = Date.now()): string {
  const url = new URL(back, 'http://local')
  for (const name of [...FLASH_QUERY_KEYS, 'flash']) url.searchParams.delete(name)
  const text = clean(message)
  const expires = Math.floor(now / 1000) + TTL_SECONDS
  url.searchParams.set(kind, text)
  url.searchParams.set('flash', `${expires}.${mac(kind, text, expires)}`)
  return `${url.pathname}${url.search}`
}

/** The message a page's query carries, when the shop signed it and it is still fresh; else null. */
export function read(params: Record<string, string | string[] | undefined>, now = Date.now()): Flash | null {
  const pick = (name: string) => {
    const value = params[name]
    return Array.isArray(value) ? value[0] : value
  }
  const kind: Flash['kind'] = pick('error') !== undefined ? 'error' : 'notice'
  const raw = pick(kind)
  const signature = /^(\d{1,12})\.([A-Za-z0-9_-]{32})$/.exec(pick('flash') ?? '')
  if (raw === undefined || !signature) return null
  const text = clean(raw)
  const expires = Number(signature[1])
  if (!text || expires * 1000 < now || expires * 1000 > now + (TTL_SECONDS + 60) * 1000) return null
  const expected = Buffer.from(mac(kind, text, expires))
  const given = Buffer.from(signature[2]!)
  return expected.length === given.length && crypto.timingSafeEqual(expected, given) ? { kind, text } : null
}
