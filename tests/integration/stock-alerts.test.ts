import fs from 'node:fs'
import path from 'node:path'
import { sql } from 'drizzle-orm'
import { describe, expect, it, vi } from 'vitest'
import { transaction } from '@/db/tx'
import { getEnv } from '@/lib/env'
import { InvalidInput, NotFound } from '@/lib/errors'
import * as inventory from '@/lib/inventory'
import * as jobs from '@/lib/jobs'
import { handlers } from '@/lib/jobs/handlers'
import * as optOuts from '@/lib/mail-opt-outs'
import * as stockAlerts from '@/lib/stock-alerts'
import { insertShopHold, insertShopProduct, insertShopVariant } from '../support/engine-shop-rows'
import { ENGINES, useEngine, type TestEngine } from '../support/engines'
import { useStorageDir } from '../support/storage-dir'
import { rejected } from '../support/thrown'

// Back-in-stock requests (lib/stock-alerts.ts) on both engines: a scan marks each request
// whose variant can be sold again and queues its email once; a stock change that brings units
// back scans after its commit; an email is claimed before it is sent, once, and a failed send
// gives the claim back. On PostgreSQL, app servers scanning and sending at once still queue
// and send each request's email once.

const mailDir = () => path.join(getEnv().storageDir, 'mail')
const alertMail = () => (fs.existsSync(mailDir()) ? fs.readdirSync(mailDir()).filter((f) => f.startsWith('stock-alert-')).sort() : [])

let serial = 0
async function variant(engine: TestEngine, stock: number, status = 'active'): Promise<number> {
  const n = ++serial
  const [product] = await engine.rows<{ id: number | string }>(sql`INSERT INTO products (slug, title, status) VALUES (${`mug-${n}`}, ${`Mug ${n}`}, ${status}) RETURNING id`)
  const [row] = await engine.rows<{ id: number | string }>(
    sql`INSERT INTO variants (product_id, sku, title, price_cents, stock) VALUES (${Number(product!.id)}, ${`MUG-${n}`}, 'Blue', 1200, ${stock}) RETURNING id`,
  )
  return Number(row!.id)
}

async function alert(engine: TestEngine, variantId: number, email: string, extra: { unsubscribedAt?: number } = {}): Promise<number> {
  const [row] = await engine.rows<{ id: number | string }>(
    sql`INSERT INTO stock_alerts (variant_id, email, created_at, unsubscribed_at) VALUES (${variantId}, ${email}, 1, ${extra.unsubscribedAt ?? null}) RETURNING id`,
  )
  return Number(row!.id)
}

const queued = (engine: TestEngine) =>
  engine.rows<{ unique_key: string; payload: unknown }>(sql`SELECT unique_key, payload FROM jobs WHERE kind = ${stockAlerts.MAIL_JOB} ORDER BY unique_key`).then((rows) => rows.map((r) => r.unique_key))
const alertRow = async (engine: TestEngine, id: number) => {
  const [row] = await engine.rows<{ notified_at: number | string | null; sent_at: number | string | null; unsubscribe_hash: string | null }>(
    sql`SELECT notified_at, sent_at, unsubscribe_hash FROM stock_alerts WHERE id = ${id}`,
  )
  return { notifiedAt: row!.notified_at === null ? null : Number(row!.notified_at), sentAt: row!.sent_at === null ? null : Number(row!.sent_at), unsubscribeHash: row!.unsubscribe_hash }
}

describe.each(ENGINES)('stock alerts on %s', (name) => {
  const engine = useEngine(name)
  useStorageDir(engine)

  it('takes an address for a sold-out option once, and refuses one in stock, unknown or archived', async () => {
    const soldOut = await variant(engine, 0)
    await stockAlerts.subscribe(soldOut, 'Sam@Example.com', '203.0.113.5')
    await stockAlerts.subscribe(soldOut, 'sam@example.com ', '203.0.113.5')
    expect(await engine.rows(sql`SELECT variant_id AS "variantId", email FROM stock_alerts`)).toEqual([{ variantId: name === 'sqlite' ? soldOut : String(soldOut), email: 'sam@example.com' }])
    expect((await stockAlerts.waitingByVariant()).get(soldOut)).toBe(1)

    expect(await rejected(stockAlerts.subscribe(await variant(engine, 3), 'sam@example.com', null))).toBeInstanceOf(InvalidInput)
    expect(await rejected(stockAlerts.subscribe(await variant(engine, 0, 'archived'), 'sam@example.com', null))).toBeInstanceOf(NotFound)
    expect(await rejected(stockAlerts.subscribe(999_999, 'sam@example.com', null))).toBeInstanceOf(NotFound)
    // every unit held: sold out to a shopper, so a request is taken
    const held = await variant(engine, 1)
    await engine.rows(sql`INSERT INTO stock_holds (variant_id, quantity, status, expires_at, created_at) VALUES (${held}, 1, 'active', ${Date.now() + 60_000}, 1) RETURNING id`)
    await stockAlerts.subscribe(held, 'kim@example.com', null)
    expect((await stockAlerts.forEmail('kim@example.com')).map((a) => [a.variantId, a.sentAt, a.unsubscribedAt])).toEqual([[held, null, null]])
  })

  it('a scan marks and queues each request whose variant can be sold again, once', async () => {
    const back = await variant(engine, 2)
    const a = await alert(engine, back, 'a@example.com')
    const b = await alert(engine, back, 'b@example.com')
    await alert(engine, back, 'gone@example.com', { unsubscribedAt: 5 })
    const soldOut = await variant(engine, 0)
    await alert(engine, soldOut, 'c@example.com')
    const archived = await variant(engine, 5, 'archived')
    await alert(engine, archived, 'e@example.com')
    const held = await variant(engine, 1)
    const d = await alert(engine, held, 'd@example.com')
    const now = Date.now()
    await engine.rows(sql`INSERT INTO stock_holds (variant_id, quantity, status, expires_at, created_at) VALUES (${held}, 1, 'active', ${now + 1000}, 1) RETURNING id`)

    expect(await stockAlerts.scan(now)).toBe(2)
    expect(await queued(engine)).toEqual([`stock-alert:${a}`, `stock-alert:${b}`].sort())
    expect((await alertRow(engine, a)).notifiedAt).toBe(now)
    expect(await stockAlerts.scan(now)).toBe(0)
    expect(await stockAlerts.scanIfWaiting(now)).toBe(0)
    expect(Object.fromEntries(await stockAlerts.waitingByVariant())).toEqual({ [soldOut]: 1, [archived]: 1, [held]: 1 })
    // the hold lapses by the clock alone: the minute's sweep finds it
    expect(await stockAlerts.scanIfWaiting(now + 2000)).toBe(1)
    expect(await queued(engine)).toContain(`stock-alert:${d}`)
    expect(await engine.count(sql`SELECT count(*) AS n FROM jobs`)).toBe(3)
  })

  it('a stock change that brings units back scans once it commits; one that finds no request waiting queues nothing', async () => {
    const quiet = await variant(engine, 0)
    await transaction((tx, t) => inventory.adjusting(tx, t, { variantId: quiet, delta: 3, note: 'delivery', adminUserId: null }))
    expect(await queued(engine)).toEqual([])

    const soldOut = await variant(engine, 0)
    const id = await alert(engine, soldOut, 'f@example.com')
    await transaction((tx, t) => inventory.adjusting(tx, t, { variantId: soldOut, delta: 1, note: 'delivery', adminUserId: null }))
    // on PostgreSQL the scan is awaited by no one: it runs after the commit
    await vi.waitFor(async () => expect(await queued(engine)).toEqual([`stock-alert:${id}`]), { timeout: 5000 })
    expect((await alertRow(engine, id)).notifiedAt).not.toBeNull()
  })

  it('sends once when two runs claim at once; a failed send gives its claim back; an address that opted out gets nothing', async () => {
    const back = await variant(engine, 2)
    const id = await alert(engine, back, 'g@example.com')
    const optedOut = await alert(engine, back, 'h@example.com')
    await engine.rows(sql`INSERT INTO mail_opt_outs (email, kind, created_at) VALUES ('h@example.com', 'stock_alert', 1) RETURNING email`)
    await stockAlerts.scan()

    // the mail folder cannot be made: the send fails after its claim committed
    fs.mkdirSync(getEnv().storageDir, { recursive: true })
    fs.writeFileSync(mailDir(), 'not a folder')
    expect(await rejected(stockAlerts.send(id))).toBeInstanceOf(Error)
    expect(await alertRow(engine, id)).toMatchObject({ sentAt: null, unsubscribeHash: null })
    fs.rmSync(mailDir())

    const results = await Promise.all([stockAlerts.send(id, 1000), stockAlerts.send(id, 2000)])
    expect(results.filter(Boolean)).toHaveLength(1)
    expect(await stockAlerts.send(id)).toBe(false)
    expect(alertMail()).toEqual([`stock-alert-${id}.eml`])
    const row = await alertRow(engine, id)
    expect([1000, 2000]).toContain(row.sentAt)
    const text = fs.readFileSync(path.join(mailDir(), alertMail()[0]!), 'utf8').replace(/=\r?\n/g, '').replace(/=3D/g, '=')
    expect(text).toContain(`/products/mug-${serial}?variant=${back}`)
    const token = /\/unsubscribe\/([A-Za-z0-9_-]{43})/.exec(text)![1]!
    expect(await optOuts.find(token)).toEqual({ email: 'g@example.com', kind: 'stock_alert' })

    expect(await stockAlerts.send(optedOut)).toBe(false)
    expect((await alertRow(engine, optedOut)).sentAt).toBeNull()
    expect((await stockAlerts.forEmail('g@example.com')).map((a) => a.sentAt)).toEqual([row.sentAt])
  })

  it.runIf(name === 'postgres')('two app servers scanning and sending at once queue and send each request once', async () => {
    const variants = [await variant(engine, 0), await variant(engine, 0), await variant(engine, 0)]
    const ids: number[] = []
    for (let i = 0; i < 30; i++) ids.push(await alert(engine, variants[i % 3]!, `p${i}@example.com`))
    await engine.rows(sql`UPDATE variants SET stock = 4 RETURNING id`)
    const servers = engine.appServers(2)
    try {
      const marked = await Promise.all(Array.from({ length: 8 }, () => stockAlerts.scan()))
      expect(marked.reduce((a, b) => a + b, 0)).toBe(30)
      expect(await queued(engine)).toEqual(ids.map((id) => `stock-alert:${id}`).sort())
      const sent = await Promise.all(ids.flatMap((id) => [stockAlerts.send(id), stockAlerts.send(id)]))
      expect(sent.filter(Boolean)).toHaveLength(30)
    } finally {
      await servers.end()
    }
    expect(alertMail()).toHaveLength(30)
    expect(await engine.count(sql`SELECT count(*) AS n FROM stock_alerts WHERE sent_at IS NOT NULL`)).toBe(30)
  })

  // The same requests through the paths a shopper and the owner take: an admin edit, a released
  // hold, the minute sweep, the real job queue's handlers and the unsubscribe link (moved from
  // the unit tests, rows from tests/support/engine-shop-rows.ts).

  const alertIds = async () => (await engine.rows<{ id: number | string }>(sql`SELECT id FROM stock_alerts ORDER BY id`)).map((r) => Number(r.id))
  const mailText = (file: string) => fs.readFileSync(path.join(mailDir(), file), 'utf8').replace(/=\r?\n/g, '').replace(/=3D/g, '=')
  const adjust = (variantId: number, delta: number) => transaction((tx, t) => inventory.adjusting(tx, t, { variantId, delta, note: 'test', adminUserId: null }))
  // the scan a stock change starts runs after its commit, awaited by no one on PostgreSQL
  const queuedSoon = async (keys: string[]) => vi.waitFor(async () => expect(await queued(engine)).toEqual([...keys].sort()), { timeout: 5000 })

  it('takes an address for a sold-out option, once per address, and refuses what makes no sense', async () => {
    const soldOut = await insertShopVariant(engine, { stock: 0 })
    await stockAlerts.subscribe(soldOut.id, 'Sam@Example.com', '203.0.113.5')
    await stockAlerts.subscribe(soldOut.id, 'sam@example.com ', '203.0.113.5')
    expect((await engine.rows<{ variantId: number | string; email: string }>(sql`SELECT variant_id AS "variantId", email FROM stock_alerts`)).map((a) => [Number(a.variantId), a.email])).toEqual([[soldOut.id, 'sam@example.com']])
    expect((await stockAlerts.waitingByVariant()).get(soldOut.id)).toBe(1)

    expect((await rejected(stockAlerts.subscribe((await insertShopVariant(engine, { stock: 3 })).id, 'sam@example.com', null))).message).toMatch(/in stock right now/)
    expect(await rejected(stockAlerts.subscribe(soldOut.id, 'nope', null))).toBeInstanceOf(InvalidInput)
    const archived = await insertShopVariant(engine, { stock: 0, productId: (await insertShopProduct(engine, { status: 'archived' })).id })
    expect(await rejected(stockAlerts.subscribe(archived.id, 'sam@example.com', null))).toBeInstanceOf(NotFound)
  })

  it('an admin edit queues one email per request; a burst of changes queues nothing more', async () => {
    const v = await insertShopVariant(engine, { stock: 0 })
    await stockAlerts.subscribe(v.id, 'a@example.com', null)
    await stockAlerts.subscribe(v.id, 'b@example.com', null)
    await adjust(v.id, 2)
    await queuedSoon((await alertIds()).map((id) => `stock-alert:${id}`))
    await adjust(v.id, -2)
    await adjust(v.id, 1)
    await stockAlerts.scan()
    expect(await queued(engine)).toHaveLength(2)
    expect((await stockAlerts.waitingByVariant()).get(v.id)).toBeUndefined()

    await jobs.drain(handlers)
    expect(alertMail()).toHaveLength(2)
    const text = mailText(alertMail()[0]!)
    expect(text).toMatch(/back in stock/i)
    expect(text).toContain(`/products/`)
    expect(text).toMatch(/\/unsubscribe\/[A-Za-z0-9_-]{43}/)
  })

  it('a released hold brings it back too, and so does the minute sweep for holds that lapse', async () => {
    const v = await insertShopVariant(engine, { stock: 1 })
    const hold = await insertShopHold(engine, { variantId: v.id, quantity: 1 })
    await stockAlerts.subscribe(v.id, 'c@example.com', null)
    expect(await queued(engine)).toHaveLength(0)
    await transaction((tx, t) => inventory.releasingHolds(tx, t, [hold]))
    await vi.waitFor(async () => expect(await queued(engine)).toHaveLength(1), { timeout: 5000 })

    const lapsing = await insertShopVariant(engine, { stock: 1 })
    await insertShopHold(engine, { variantId: lapsing.id, quantity: 1, expiresAt: Date.now() + 1000 })
    await stockAlerts.subscribe(lapsing.id, 'd@example.com', null)
    expect(await stockAlerts.scan(Date.now() + 2000)).toBe(1)
    expect(await queued(engine)).toHaveLength(2)
  })

  it('sends once even when the job runs twice, or twice at once', async () => {
    const v = await insertShopVariant(engine, { stock: 0 })
    await stockAlerts.subscribe(v.id, 'e@example.com', null)
    await adjust(v.id, 1)
    const [alertId] = await alertIds()
    await queuedSoon([`stock-alert:${alertId}`])
    const results = await Promise.all([stockAlerts.send(alertId!), stockAlerts.send(alertId!)])
    expect(results.filter(Boolean)).toHaveLength(1)
    expect(await stockAlerts.send(alertId!)).toBe(false)
    // and the queued job itself, run after that, sends nothing more
    await jobs.drain(handlers)
    expect(alertMail()).toEqual([`stock-alert-${alertId}.eml`])
    expect((await alertRow(engine, alertId!)).sentAt).not.toBeNull()
  })

  it('the unsubscribe link works without signing in: waiting requests are withdrawn and nothing more is sent', async () => {
    const first = await insertShopVariant(engine, { stock: 0 })
    const second = await insertShopVariant(engine, { stock: 0 })
    await stockAlerts.subscribe(first.id, 'f@example.com', null)
    await stockAlerts.subscribe(second.id, 'f@example.com', null)
    await adjust(first.id, 1)
    await vi.waitFor(async () => expect(await queued(engine)).toHaveLength(1), { timeout: 5000 })
    await jobs.drain(handlers)
    const token = /\/unsubscribe\/([A-Za-z0-9_-]{43})/.exec(mailText(alertMail()[0]!))![1]!
    expect(await optOuts.find(token)).toEqual({ email: 'f@example.com', kind: 'stock_alert' })
    expect(await optOuts.optOut(token)).not.toBeNull()
    expect((await stockAlerts.waitingByVariant()).get(second.id)).toBeUndefined()
    await adjust(second.id, 1)
    // give a scan the change may have started its chance to queue (it must find nothing)
    await stockAlerts.scan()
    await jobs.drain(handlers)
    expect(alertMail()).toHaveLength(1)
    expect(await optOuts.optOut('x'.repeat(43))).toBeNull()
  })
})
