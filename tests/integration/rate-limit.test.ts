import { sql } from 'drizzle-orm'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { resetEnv } from '@/lib/env'
import { isExpected, RateLimited } from '@/lib/errors'
import * as rateLimit from '@/lib/request/rate-limit'
import { rejected } from '../support/thrown'
import { ENGINES, useEngine, type TestEngine } from '../support/engines'

// The fixed-window counters of lib/request/rate-limit.ts on both engines. On PostgreSQL
// several app servers count into the same rows at once: the limit holds for all of them
// together, because each hit is one upsert that returns the new count, never a count read
// and then written.

const T0 = 1_800_000_000_000
const MINUTE = 60_000
const LIMITS = { RATE_LIMIT_WINDOW_SECONDS: '60', CHECKOUT_LIMIT_PER_CART: '2', CHECKOUT_LIMIT_PER_ADDRESS: '3', SESSION_LOOKUP_LIMIT_PER_ADDRESS: '1' }

beforeEach(() => {
  Object.assign(process.env, LIMITS)
  resetEnv()
})
afterEach(() => {
  for (const key of Object.keys(LIMITS)) delete process.env[key]
  resetEnv()
})

const windows = (engine: TestEngine) =>
  engine.rows<{ key: string; hits: number | string; expiresAt: number | string }>(sql`SELECT key, hits, expires_at AS "expiresAt" FROM rate_limits ORDER BY key`).then((rows) => rows.map((r) => ({ key: r.key, hits: Number(r.hits), expiresAt: Number(r.expiresAt) })))

describe.each(ENGINES)('rate limits on %s', (name) => {
  const engine = useEngine(name)

  it('allow the limit per window, refuse beyond it with a message and the time left, count no refusal, and start again after the window', async () => {
    const bucket = [{ key: 'k', limit: 2 }]
    await rateLimit.take(bucket, 'Slow down, please.', T0, MINUTE)
    await rateLimit.take(bucket, 'Slow down, please.', T0 + 1_000, MINUTE)
    const refused = await rejected(rateLimit.take(bucket, 'Slow down, please.', T0 + 10_000, MINUTE))
    expect(refused).toBeInstanceOf(RateLimited)
    // told to the shopper in words (a 4xx-style answer), never a server error
    expect(isExpected(refused)).toBe(true)
    expect(refused.message).toBe('Slow down, please.')
    expect((refused as RateLimited).retryAfterSeconds).toBe(50)
    // the refused attempt was not counted, and the window still ends a minute after the first hit
    expect(await windows(engine)).toEqual([{ key: 'k', hits: 2, expiresAt: T0 + MINUTE }])
    await rateLimit.take(bucket, 'Slow down, please.', T0 + MINUTE, MINUTE)
    expect(await windows(engine)).toEqual([{ key: 'k', hits: 1, expiresAt: T0 + 2 * MINUTE }])
  })

  it('count a hit in every bucket or in none, and say when the fullest window ends', async () => {
    await rateLimit.take([{ key: 'b-full', limit: 1 }], 'x', T0, MINUTE)
    await rateLimit.take([{ key: 'a-later', limit: 1 }], 'x', T0 + 30_000, MINUTE)
    const refused = (await rejected(rateLimit.take([{ key: 'c-free', limit: 5 }, { key: 'b-full', limit: 1 }, { key: 'a-later', limit: 1 }], 'x', T0 + 40_000, MINUTE))) as RateLimited
    expect(refused.retryAfterSeconds).toBe(50)
    expect((await windows(engine)).map((w) => [w.key, w.hits])).toEqual([
      ['a-later', 1],
      ['b-full', 1],
    ])
  })

  it('limit checkout starts per cart and per address with a clear message, storing neither', async () => {
    await rateLimit.takeCheckoutStart('cart-a', '10.0.0.1', T0)
    await rateLimit.takeCheckoutStart('cart-a', '10.0.0.2', T0)
    expect((await rejected(rateLimit.takeCheckoutStart('cart-a', '10.0.0.3', T0))).message).toBe('Too many checkout attempts. Please wait a few minutes and try again.')
    await rateLimit.takeCheckoutStart('cart-b', '10.0.0.1', T0)
    await rateLimit.takeCheckoutStart('cart-c', '10.0.0.1', T0)
    expect(await rejected(rateLimit.takeCheckoutStart('cart-d', '10.0.0.1', T0))).toBeInstanceOf(RateLimited)
    await rateLimit.takeCheckoutStart('cart-d', null, T0)
    expect((await windows(engine)).map((w) => w.key).join(' ')).not.toMatch(/cart-|10\.0\.0/)
  })

  it('limit look-ups of unknown sessions per address', async () => {
    await rateLimit.takeSessionLookup('10.0.0.1', T0)
    expect(await rejected(rateLimit.takeSessionLookup('10.0.0.1', T0))).toBeInstanceOf(RateLimited)
    await rateLimit.takeSessionLookup('10.0.0.2', T0)
    expect((await windows(engine)).map((w) => w.hits)).toEqual([1, 1])
  })

  it('say yes to mailing a link until the address had its share in the window', async () => {
    const answers = []
    for (let i = 0; i < 4; i++) answers.push(await rateLimit.mayMailSignInLink('sam@example.com', 15 * MINUTE, T0))
    expect(answers).toEqual([true, true, true, false])
    expect(await rateLimit.mayMailSignInLink('sam@example.com', 15 * MINUTE, T0 + 15 * MINUTE)).toBe(true)
  })

  it('delete windows that have ended as new hits arrive', async () => {
    for (let i = 0; i < 30; i++) await rateLimit.take([{ key: `old-${i}`, limit: 1 }], 'x', T0, MINUTE)
    await rateLimit.take([{ key: 'new', limit: 1 }], 'x', T0 + MINUTE + 1, MINUTE)
    expect((await windows(engine)).map((w) => w.key)).toEqual(['new'])
  })

  it.runIf(name === 'postgres')('50 takes at once on two app servers against a limit of 10 allow exactly 10', async () => {
    const servers = engine.appServers(2)
    try {
      const bucket = [{ key: 'shared', limit: 10 }]
      const outcomes = await Promise.allSettled(Array.from({ length: 50 }, () => rateLimit.take(bucket, 'Too many.', T0, MINUTE)))
      expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(10)
      const refusals = outcomes.flatMap((o) => (o.status === 'rejected' ? [o.reason as unknown] : []))
      expect(refusals).toHaveLength(40)
      expect(refusals.every((err) => err instanceof RateLimited && err.message === 'Too many.')).toBe(true)
      expect(await windows(engine)).toEqual([{ key: 'shared', hits: 10, expiresAt: T0 + MINUTE }])
      // two buckets taken in either order by 40 requests at once: each limit holds, and none deadlocks for good
      const pairs = await Promise.allSettled(
        Array.from({ length: 40 }, (_, n) =>
          rateLimit.take(
            n % 2 ? [{ key: 'p', limit: 7 }, { key: 'q', limit: 30 }] : [{ key: 'q', limit: 30 }, { key: 'p', limit: 7 }],
            'Too many.',
            T0,
            MINUTE,
          ),
        ),
      )
      expect(pairs.filter((o) => o.status === 'rejected' && !(o.reason instanceof RateLimited))).toEqual([])
      expect(pairs.filter((o) => o.status === 'fulfilled')).toHaveLength(7)
      expect((await windows(engine)).filter((w) => w.key !== 'shared').map((w) => [w.key, w.hits])).toEqual([
        ['p', 7],
        ['q', 7],
      ])
    } finally {
      await servers.end()
    }
  })
})
