import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import * as checkout from '@/lib/checkout'
import { resetEnv } from '@/lib/env'
import { HoldLimit, OutOfStock } from '@/lib/errors'
import * as inventory from '@/lib/inventory'
import { insertCart, insertVariant } from '../support/catalog-rows'
import { startPaymentsEnv, type PaymentsEnv } from '../support/payments-env'

// One visitor cannot sell out the shop without paying: checkouts from one client address
// (over any number of carts) and from one cart hold at most HOLD_MAX_SHARE_PERCENT of a
// variant's units at once, so the product page never reads "Sold out" because of them.
// Real checkouts through lib/checkout, the local Stripe-compatible server, a real SQLite file.

let env: PaymentsEnv
beforeEach(async () => {
  env = await startPaymentsEnv()
  process.env.HOLD_MAX_SHARE_PERCENT = '50'
  resetEnv()
})
afterEach(async () => {
  delete process.env.HOLD_MAX_SHARE_PERCENT
  resetEnv()
  await env.close()
})

const attempt = (variantId: number, quantity: number, address: string | null) => checkout.start(insertCart([{ variantId, quantity }]), address).then(() => 'held', (err: unknown) => err)

describe('holds per visitor', () => {
  it('ten cheap checkouts from one address hold half the units, and the rest stay for everyone', async () => {
    const { variantId } = insertVariant({ stock: 10, priceCents: 100 })
    const results = []
    for (let i = 0; i < 10; i++) results.push(await attempt(variantId, 1, '203.0.113.66'))
    expect(results.filter((r) => r === 'held')).toHaveLength(5)
    const refused = results.filter((r) => r !== 'held')
    expect(refused.every((r) => r instanceof HoldLimit)).toBe(true)
    expect((refused[0] as HoldLimit).message).toMatch(/at most 5 of .* at a time/)
    expect(inventory.availableOne(variantId)).toBe(5)
    // another shopper still buys
    expect(await attempt(variantId, 2, '198.51.100.7')).toBe('held')
    expect(inventory.availableOne(variantId)).toBe(3)
  })

  it('one cart holds at most the share, whatever address it comes from; the last unit can still be bought', async () => {
    const { variantId } = insertVariant({ stock: 10 })
    expect(await attempt(variantId, 6, null)).toBeInstanceOf(HoldLimit)
    expect(await attempt(variantId, 5, null)).toBe('held')
    const last = insertVariant({ stock: 1 })
    expect(await attempt(last.variantId, 1, '203.0.113.66')).toBe('held')
    // short stock is still told as short stock
    expect(await attempt(last.variantId, 1, '198.51.100.7')).toBeInstanceOf(OutOfStock)
    expect(await attempt(last.variantId, 1, '198.51.100.7')).not.toBeInstanceOf(HoldLimit)
  })

  it('100 (the development default) bounds nothing', async () => {
    process.env.HOLD_MAX_SHARE_PERCENT = '100'
    resetEnv()
    const { variantId } = insertVariant({ stock: 4 })
    expect(await attempt(variantId, 4, '203.0.113.66')).toBe('held')
  })
})
