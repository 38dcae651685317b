import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { rateLimits } from '@/db/schema'
import { resetEnv } from '@/lib/env'
import { RateLimited } from '@/lib/errors'
import * as rateLimit from '@/lib/request/rate-limit'
import { freshDb, type TestDb } from '../support/db'

let t: TestDb
beforeEach(() => {
  t = freshDb()
  Object.assign(process.env, { RATE_LIMIT_WINDOW_SECONDS: '60', CHECKOUT_LIMIT_PER_CART: '2', CHECKOUT_LIMIT_PER_ADDRESS: '3', SESSION_LOOKUP_LIMIT_PER_ADDRESS: '1' })
  resetEnv()
})
afterEach(() => {
  for (const key of ['RATE_LIMIT_WINDOW_SECONDS', 'CHECKOUT_LIMIT_PER_CART', 'CHECKOUT_LIMIT_PER_ADDRESS', 'SESSION_LOOKUP_LIMIT_PER_ADDRESS']) delete process.env[key]
  resetEnv()
  t.close()
})

const T0 = 1_800_000_000_000

async function refusal(taking: Promise<void>): Promise<RateLimited> {
  try {
    await taking
  } catch (err) {
    if (err instanceof RateLimited) return err
    throw err
  }
  throw new Error('expected RateLimited')
}

describe('rate limits', () => {
  it('allow the limit per window, refuse beyond it with the time left, and reset after the window', async () => {
    const bucket = [{ key: 'k', limit: 2 }]
    await rateLimit.take(bucket, 'slow down', T0)
    await rateLimit.take(bucket, 'slow down', T0 + 1_000)
    const err = await refusal(rateLimit.take(bucket, 'slow down', T0 + 10_000))
    expect(err.message).toBe('slow down')
    expect(err.retryAfterSeconds).toBe(50)
    // refused attempts are not counted: the window still ends 60 s after the first hit
    expect(t.db.select().from(rateLimits).all()).toEqual([{ key: 'k', hits: 2, expiresAt: T0 + 60_000 }])
    await rateLimit.take(bucket, 'slow down', T0 + 60_000)
    expect(t.db.select().from(rateLimits).all()).toEqual([{ key: 'k', hits: 1, expiresAt: T0 + 120_000 }])
  })

  it('count a hit in every bucket or in none', async () => {
    await rateLimit.take([{ key: 'full', limit: 1 }], 'x', T0)
    await refusal(rateLimit.take([{ key: 'other', limit: 5 }, { key: 'full', limit: 1 }], 'x', T0 + 1))
    expect(t.db.select().from(rateLimits).all().map((r) => r.key)).toEqual(['full'])
  })

  it('limit checkout starts per cart and per address, storing neither', async () => {
    await rateLimit.takeCheckoutStart('cart-a', '10.0.0.1', T0)
    await rateLimit.takeCheckoutStart('cart-a', '10.0.0.2', T0)
    expect((await refusal(rateLimit.takeCheckoutStart('cart-a', '10.0.0.3', T0))).message).toMatch(/too many checkout attempts/i)
    await rateLimit.takeCheckoutStart('cart-b', '10.0.0.1', T0)
    await rateLimit.takeCheckoutStart('cart-c', '10.0.0.1', T0)
    await refusal(rateLimit.takeCheckoutStart('cart-d', '10.0.0.1', T0))
    await rateLimit.takeCheckoutStart('cart-d', null, T0)
    const keys = t.db.select().from(rateLimits).all().map((r) => r.key)
    expect(keys.join(' ')).not.toMatch(/cart-|10\.0\.0/)
  })

  it('limit look-ups of unknown sessions per address', async () => {
    await rateLimit.takeSessionLookup('10.0.0.1', T0)
    await refusal(rateLimit.takeSessionLookup('10.0.0.1', T0))
    await rateLimit.takeSessionLookup('10.0.0.2', T0)
  })

  it('delete windows that have ended as new hits arrive', async () => {
    for (let i = 0; i < 50; i++) await rateLimit.take([{ key: `old-${i}`, limit: 1 }], 'x', T0)
    await rateLimit.take([{ key: 'new', limit: 1 }], 'x', T0 + 61_000)
    expect(t.db.select().from(rateLimits).all().map((r) => r.key)).toEqual(['new'])
  })
})
