import fs from 'node:fs'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { getDb, write } from '@/db'
import { jobs as jobsTable, stockAlerts as alertsTable } from '@/db/schema'
import { runNow } from '@/db/tx'
import { InvalidInput, NotFound } from '@/lib/errors'
import * as inventory from '@/lib/inventory'
import * as jobs from '@/lib/jobs'
import { handlers } from '@/lib/jobs/handlers'
import * as optOuts from '@/lib/mail-opt-outs'
import * as stockAlerts from '@/lib/stock-alerts'
import { freshStore, type TestDb } from '../support/db'
import { createHold, createProduct, createVariant } from '../support/factories'
import { rejected } from '../support/thrown'

// Back-in-stock alerts on a real database with the real job queue: whatever brings stock
// back queues one email per request, a burst queues nothing more, and the email goes out
// once even when its job runs twice or twice at once.

let t: TestDb
beforeEach(() => {
  t = freshStore()
})
afterEach(() => {
  t.close()
})

const alertJobs = () => getDb().select().from(jobsTable).all().filter((j) => j.kind === stockAlerts.MAIL_JOB)
const alertMail = () => {
  const dir = path.join(t.dir, 'mail')
  return fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.startsWith('stock-alert-')) : []
}
const mailText = (file: string) => fs.readFileSync(path.join(t.dir, 'mail', file), 'utf8').replace(/=\r?\n/g, '').replace(/=3D/g, '=')
const adjust = (variantId: number, delta: number) => write((tx) => runNow(tx, (w, t) => inventory.adjusting(w, t, { variantId, delta, note: 'test', adminUserId: null })))

describe('asking to be told', () => {
  it('takes an address for a sold-out option, once per address, and refuses what makes no sense', async () => {
    const soldOut = createVariant({ stock: 0 })
    await stockAlerts.subscribe(soldOut.id, 'Sam@Example.com', '203.0.113.5')
    await stockAlerts.subscribe(soldOut.id, 'sam@example.com ', '203.0.113.5')
    expect(getDb().select().from(alertsTable).all().map((a) => [a.variantId, a.email])).toEqual([[soldOut.id, 'sam@example.com']])
    expect((await stockAlerts.waitingByVariant()).get(soldOut.id)).toBe(1)

    expect((await rejected(stockAlerts.subscribe(createVariant({ stock: 3 }).id, 'sam@example.com', null))).message).toMatch(/in stock right now/)
    expect(await rejected(stockAlerts.subscribe(soldOut.id, 'nope', null))).toBeInstanceOf(InvalidInput)
    const archived = createVariant({ stock: 0, productId: createProduct({ status: 'archived' }).id })
    expect(await rejected(stockAlerts.subscribe(archived.id, 'sam@example.com', null))).toBeInstanceOf(NotFound)
  })
})

describe('when stock returns', () => {
  it('an admin edit queues one email per request; a burst of changes queues nothing more', async () => {
    const variant = createVariant({ stock: 0 })
    await stockAlerts.subscribe(variant.id, 'a@example.com', null)
    await stockAlerts.subscribe(variant.id, 'b@example.com', null)
    adjust(variant.id, 2)
    expect(alertJobs().map((j) => j.uniqueKey).sort()).toEqual(getDb().select().from(alertsTable).all().map((a) => `stock-alert:${a.id}`).sort())
    adjust(variant.id, -2)
    adjust(variant.id, 1)
    await stockAlerts.scan()
    expect(alertJobs()).toHaveLength(2)
    expect((await stockAlerts.waitingByVariant()).get(variant.id)).toBeUndefined()

    await jobs.drain(handlers)
    expect(alertMail()).toHaveLength(2)
    const text = mailText(alertMail()[0]!)
    expect(text).toMatch(/back in stock/i)
    expect(text).toContain(`/products/`)
    expect(text).toMatch(/\/unsubscribe\/[A-Za-z0-9_-]{43}/)
  })

  it('a released hold brings it back too, and so does the minute sweep for holds that lapse', async () => {
    const variant = createVariant({ stock: 1 })
    const hold = createHold({ variantId: variant.id, quantity: 1 })
    await stockAlerts.subscribe(variant.id, 'c@example.com', null)
    expect(alertJobs()).toHaveLength(0)
    write((tx) => inventory.releaseHolds(tx, [hold.id]))
    expect(alertJobs()).toHaveLength(1)

    const lapsing = createVariant({ stock: 1 })
    createHold({ variantId: lapsing.id, quantity: 1, expiresAt: Date.now() + 1000 })
    await stockAlerts.subscribe(lapsing.id, 'd@example.com', null)
    expect(await stockAlerts.scan(Date.now() + 2000)).toBe(1)
    expect(alertJobs()).toHaveLength(2)
  })

  it('sends once even when the job runs twice, or twice at once', async () => {
    const variant = createVariant({ stock: 0 })
    await stockAlerts.subscribe(variant.id, 'e@example.com', null)
    adjust(variant.id, 1)
    const alertId = getDb().select().from(alertsTable).get()!.id
    const results = await Promise.all([stockAlerts.send(alertId), stockAlerts.send(alertId)])
    expect(results.filter(Boolean)).toHaveLength(1)
    expect(await stockAlerts.send(alertId)).toBe(false)
    // and the queued job itself, run after that, sends nothing more
    await jobs.drain(handlers)
    expect(alertMail()).toEqual([`stock-alert-${alertId}.eml`])
    expect(getDb().select().from(alertsTable).get()!.sentAt).not.toBeNull()
  })

  it('the unsubscribe link works without signing in: waiting requests are withdrawn and nothing more is sent', async () => {
    const first = createVariant({ stock: 0 })
    const second = createVariant({ stock: 0 })
    await stockAlerts.subscribe(first.id, 'f@example.com', null)
    await stockAlerts.subscribe(second.id, 'f@example.com', null)
    adjust(first.id, 1)
    await jobs.drain(handlers)
    const token = /\/unsubscribe\/([A-Za-z0-9_-]{43})/.exec(mailText(alertMail()[0]!))![1]!
    expect(await optOuts.find(token)).toEqual({ email: 'f@example.com', kind: 'stock_alert' })
    expect(await optOuts.optOut(token)).not.toBeNull()
    expect((await stockAlerts.waitingByVariant()).get(second.id)).toBeUndefined()
    adjust(second.id, 1)
    await jobs.drain(handlers)
    expect(alertMail()).toHaveLength(1)
    expect(await optOuts.optOut('x'.repeat(43))).toBeNull()
  })
})
