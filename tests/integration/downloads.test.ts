import fs from 'node:fs'
import path from 'node:path'
import { eq } from 'drizzle-orm'
import type Stripe from 'stripe'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { GET as download } from '@/app/downloads/[token]/route'
import { downloadGrants, jobs } from '@/db/schema'
import * as adminAuth from '@/lib/admin-auth'
import * as checkout from '@/lib/checkout'
import * as downloads from '@/lib/downloads'
import { resetEnv } from '@/lib/env'
import * as formNonce from '@/lib/request/form-nonce'
import { handlers } from '@/lib/jobs/handlers'
import * as orders from '@/lib/orders'
import * as refunds from '@/lib/orders/refunds'
import { insertCart, insertVariant } from '../support/catalog-rows'
import { deliverEvent, startPaymentsEnv, type PaymentsEnv } from '../support/payments-env'

// Digital products against the local Stripe-compatible server: Checkout asks no address for
// a cart of downloads, the paid order's lines get one grant each however often the webhook
// comes, a link counts its downloads up to its limit and not past its expiry, and a full
// refund withdraws it.

let env: PaymentsEnv
beforeEach(async () => {
  env = await startPaymentsEnv()
  process.env.DOWNLOAD_LIMIT = '2'
  resetEnv()
})
afterEach(async () => {
  delete process.env.DOWNLOAD_LIMIT
  resetEnv()
  await env.close()
})

const CONTENT = 'the whole book, chapter one…\n'

async function digitalProduct() {
  const admin = await adminAuth.createAdmin(`owner-${Math.random().toString(36).slice(2)}@example.com`, 'a long enough password')
  const row = insertVariant({ stock: 100, priceCents: 900 })
  await downloads.attach(admin, row.productId, { name: 'Book (2nd edition).pdf', bytes: new TextEncoder().encode(CONTENT) })
  return { ...row, admin }
}

async function eventsFor(objectId: string, type: string): Promise<Stripe.Event[]> {
  const all = await env.stripe.events.list({ limit: 100 }).autoPagingToArray({ limit: 1000 })
  return all.filter((e) => (e.data.object as { id?: string }).id === objectId && e.type === type).reverse()
}

async function paidOrder(lines: { variantId: number; quantity: number }[]) {
  const { sessionId } = await checkout.start(insertCart(lines))
  env.stripeServer.emulator.control.pay({ session: sessionId })
  const [completed] = await eventsFor(sessionId, 'checkout.session.completed')
  // redelivered, and twice at once: one order, one grant per digital line
  const answers = await Promise.all([deliverEvent(env, completed!), deliverEvent(env, completed!)])
  expect(answers.map((r) => r.status)).toEqual([200, 200])
  expect((await deliverEvent(env, completed!)).status).toBe(200)
  return (await orders.findById((await orders.findBySession(sessionId))!.id))!
}

const grantsOf = (orderId: number) => env.t.db.select().from(downloadGrants).where(eq(downloadGrants.orderId, orderId)).all()
const tokenOf = (link: downloads.DownloadLink) => link.path.split('/').pop()!
const get = (token: string) => download(new Request(`http://127.0.0.1/downloads/${token}`), { params: Promise.resolve({ token }) })

describe('checkout of downloads', () => {
  it('a cart of downloads only asks no address and offers no rate; a mixed cart keeps both', async () => {
    const digital = await digitalProduct()
    const shipped = insertVariant({ stock: 10 })
    const onlyDigital = await env.stripe.checkout.sessions.retrieve((await checkout.start(insertCart([{ variantId: digital.variantId, quantity: 1 }]))).sessionId)
    expect(onlyDigital.shipping_address_collection).toBeNull()
    expect(onlyDigital.shipping_options).toEqual([])
    const mixed = await env.stripe.checkout.sessions.retrieve((await checkout.start(insertCart([{ variantId: digital.variantId, quantity: 1 }, { variantId: shipped.variantId, quantity: 1 }]))).sessionId)
    expect(mixed.shipping_address_collection?.allowed_countries.length).toBeGreaterThan(0)
    expect(mixed.shipping_options.length).toBeGreaterThan(0)
  })
})

describe('grants and links', () => {
  it('one grant per digital line, whatever the deliveries; the email and the order page give the same link', async () => {
    const digital = await digitalProduct()
    const shipped = insertVariant({ stock: 10 })
    const order = await paidOrder([{ variantId: digital.variantId, quantity: 1 }, { variantId: shipped.variantId, quantity: 2 }])
    const grants = grantsOf(order.id)
    expect(grants).toHaveLength(1)
    expect(grants[0]).toMatchObject({ orderLineId: order.lines.find((l) => l.variantId === digital.variantId)!.id, downloadLimit: 2, downloadCount: 0, revokedAt: null })
    const [link] = await downloads.linksFor(order)
    expect(link).toMatchObject({ state: 'ready', remaining: 2, fileName: 'Book (2nd edition).pdf' })
    // only the token's hash is stored
    expect(grants[0]!.tokenHash).not.toContain(tokenOf(link!))
    const [confirmation] = env.t.db.select().from(jobs).where(eq(jobs.kind, 'mail.order_confirmation')).all()
    await handlers['mail.order_confirmation']!(confirmation!.payload, { jobId: confirmation!.id } as never)
    const mail = fs.readFileSync(path.join(env.t.dir, 'mail', `order-${order.id}-confirmation.eml`), 'utf8').replace(/=\r?\n/g, '')
    expect(mail).toContain(tokenOf(link!))
  })

  it('streams the file privately, counts each download, and stops at the limit', async () => {
    const digital = await digitalProduct()
    const order = await paidOrder([{ variantId: digital.variantId, quantity: 1 }])
    const token = tokenOf((await downloads.linksFor(order))[0]!)
    const first = await get(token)
    expect(first.status).toBe(200)
    expect(await first.text()).toBe(CONTENT)
    expect(first.headers.get('cache-control')).toBe('private, no-store')
    expect(first.headers.get('x-content-type-options')).toBe('nosniff')
    expect(first.headers.get('content-type')).toBe('application/pdf')
    expect(first.headers.get('content-disposition')).toBe(`attachment; filename="Book (2nd edition).pdf"; filename*=UTF-8''Book%20(2nd%20edition).pdf`)
    // the rest of the limit asked for at once: exactly one more succeeds
    const rest = await Promise.all([get(token), get(token), get(token)])
    expect(rest.map((r) => r.status).sort()).toEqual([200, 410, 410])
    expect(grantsOf(order.id)[0]!.downloadCount).toBe(2)
    expect(await rest.find((r) => r.status === 410)!.text()).toMatch(/used as many times as it allows/)
    expect((await downloads.linksFor(order))[0]).toMatchObject({ state: 'used_up', remaining: 0 })
  })

  it('expires after its days, counting nothing', async () => {
    const digital = await digitalProduct()
    const order = await paidOrder([{ variantId: digital.variantId, quantity: 1 }])
    const grant = grantsOf(order.id)[0]!
    const token = tokenOf((await downloads.linksFor(order))[0]!)
    expect(grant.expiresAt - grant.createdAt).toBe(7 * 24 * 60 * 60 * 1000)
    expect(await downloads.claim(token, grant.expiresAt)).toEqual({ ok: false, status: 410, message: 'This download link has expired.' })
    expect((await downloads.linksFor(order, grant.expiresAt))[0]!.state).toBe('expired')
    expect(grantsOf(order.id)[0]!.downloadCount).toBe(0)
  })

  it('hostile or unknown tokens are 404s that touch no file', async () => {
    for (const token of ['', '..', '../../etc/passwd', '%2e%2e%2fflash.key', 'a'.repeat(43), 'a'.repeat(500), 'a/b'.padEnd(43, 'c')]) {
      const res = await get(token)
      expect(res.status, token).toBe(404)
      expect(res.headers.get('cache-control')).toBe('private, no-store')
    }
  })

  it('a full refund, once Stripe confirms it, withdraws the link (and a replay changes nothing)', async () => {
    const digital = await digitalProduct()
    const order = await paidOrder([{ variantId: digital.variantId, quantity: 1 }])
    const token = tokenOf((await downloads.linksFor(order))[0]!)
    await refunds.refund(digital.admin, { orderId: order.id, amountCents: order.totalCents, restock: new Map(), nonce: formNonce.create() })
    // sent, not yet confirmed: the link still works
    expect((await downloads.linksFor(order))[0]!.state).toBe('ready')
    const charge = (await env.stripe.paymentIntents.retrieve(order.stripePaymentIntentId!)).latest_charge as string
    const [refunded] = await eventsFor(charge, 'charge.refunded')
    expect((await deliverEvent(env, refunded!)).status).toBe(200)
    const revokedAt = grantsOf(order.id)[0]!.revokedAt
    expect(revokedAt).not.toBeNull()
    expect((await deliverEvent(env, refunded!)).status).toBe(200)
    expect(grantsOf(order.id)[0]!.revokedAt).toBe(revokedAt)
    const res = await get(token)
    expect(res.status).toBe(410)
    expect(await res.text()).toMatch(/withdrawn because the order was refunded/)
  })

  it('a replaced file is what existing links serve; the old one is gone from the disk', async () => {
    const digital = await digitalProduct()
    const order = await paidOrder([{ variantId: digital.variantId, quantity: 1 }])
    const before = (await downloads.fileOf(digital.productId))!
    await downloads.attach(digital.admin, digital.productId, { name: 'book-v3.epub', bytes: new TextEncoder().encode('v3') })
    expect(fs.existsSync(path.join(downloads.downloadsDir(), before.storageKey))).toBe(false)
    const res = await get(tokenOf((await downloads.linksFor(order))[0]!))
    expect(await res.text()).toBe('v3')
    expect(res.headers.get('content-type')).toBe('application/epub+zip')
    // never under uploads/, which anyone may read
    expect(downloads.downloadsDir()).toBe(path.join(env.t.dir, 'downloads'))
  })
})
