import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { COOKIE_NAME } from '@/lib/cart'
import { startServer, submitActionForm, type ServerHandle } from '../support/server'
import { makeCart, someVariant } from '../support/running-store'
import { storeRows } from '../support/store-file'

// Twenty shoppers press "Checkout" at the same moment for the last three units, against the
// real production server: exactly three get holds and a payment page, seventeen are told
// it is sold out, and nothing is held twice.

let server: ServerHandle
beforeAll(async () => {
  server = await startServer({ env: { JOBS: 'off' } })
})
afterAll(() => server.stop())

describe('checkout under contention', () => {
  it('20 carts race for the last 3 units: exactly 3 get holds', async () => {
    const db = storeRows(server.storageDir)
    const variant = await someVariant(db)
    await db.run('UPDATE variants SET stock = 3 WHERE id = ?', variant.id)
    const cartIds: string[] = []
    for (let i = 0; i < 20; i++) cartIds.push(await makeCart(db, [{ variantId: variant.id, quantity: 1 }]))

    // Each shopper presses the cart page's Checkout button (the form works without JavaScript).
    const responses = await Promise.all(cartIds.map((id) => submitActionForm(server.url, '/cart', '>Checkout<', { cookie: `${COOKIE_NAME}=${id}` })))
    const locations = responses.map((r) => ({ status: r.status, location: r.headers.get('location') ?? '' }))
    expect(locations.every((l) => l.status === 303)).toBe(true)
    const paying = locations.filter((l) => l.location.includes('/emulator/checkout/cs_'))
    const refused = locations.filter((l) => l.location.startsWith('/cart?'))
    expect(paying).toHaveLength(3)
    expect(refused).toHaveLength(17)
    for (const r of refused) expect(new URLSearchParams(r.location.split('?')[1]).get('error')).toMatch(/sold out/i)

    const holds = await db.get(`SELECT count(*) AS n, sum(quantity) AS units, count(stripe_checkout_session_id) AS tagged FROM stock_holds WHERE variant_id = ? AND status = 'active'`, variant.id)
    expect(holds).toEqual({ n: 3, units: 3, tagged: 3 })
    expect(await db.get('SELECT stock FROM variants WHERE id = ?', variant.id)).toEqual({ stock: 3 })
    await db.close()
  })
})
