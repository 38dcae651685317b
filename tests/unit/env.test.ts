import { describe, expect, it } from 'vitest'
import { ConfigError, parseEnv } from '@/lib/env'

describe('env.parseEnv', () => {
  it('has working defaults for development: emulator payments on port 3000', () => {
    const env = parseEnv({})
    expect(env.port).toBe(3000)
    expect(env.payments).toBe('emulator')
    expect(env.appUrl).toBe('http://localhost:3000')
    expect(env.stripeApiBase).toBe('http://127.0.0.1:3000')
    expect(env.storageDir).toMatch(/storage$/)
  })

  it('lists every bad key in one error', () => {
    try {
      parseEnv({ APP_URL: 'notaurl', PORT: 'eighty', LOG_LEVEL: 'loud' })
      expect.unreachable('parseEnv accepted bad values')
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError)
      const message = (err as ConfigError).message
      expect(message).toMatch(/APP_URL/)
      expect(message).toMatch(/PORT/)
      expect(message).toMatch(/LOG_LEVEL/)
    }
  })

  it('gives shutdown 25 s by default and names SHUTDOWN_TIMEOUT_SECONDS when it is bad', () => {
    expect(parseEnv({}).shutdownTimeoutMs).toBe(25_000)
    expect(parseEnv({ SHUTDOWN_TIMEOUT_SECONDS: '10' }).shutdownTimeoutMs).toBe(10_000)
    for (const bad of ['0', 'soon', '2.5', '9999']) expect(() => parseEnv({ SHUTDOWN_TIMEOUT_SECONDS: bad })).toThrow(/SHUTDOWN_TIMEOUT_SECONDS/)
  })

  it('never falls back to the emulator in production', () => {
    expect(() => parseEnv({ NODE_ENV: 'production' })).toThrow(/STRIPE_SECRET_KEY/)
    expect(parseEnv({ NODE_ENV: 'production', PAYMENTS: 'emulator' }).payments).toBe('emulator')
  })

  it('points the SDK at STRIPE_API_BASE when set', () => {
    const env = parseEnv({ STRIPE_SECRET_KEY: 'sk_test_abc', STRIPE_WEBHOOK_SECRET: 'whsec_abc', STRIPE_API_BASE: 'http://127.0.0.1:12111' })
    expect(env.payments).toBe('stripe')
    expect(env.stripeApiBase).toBe('http://127.0.0.1:12111')
  })

  it('parses shipping rates and rejects malformed ones', () => {
    expect(parseEnv({ SHIPPING_RATES: 'Post:450:2-4' }).shippingRates).toEqual([{ name: 'Post', amountCents: 450, minDays: 2, maxDays: 4 }])
    expect(() => parseEnv({ SHIPPING_RATES: 'free' })).toThrow(/SHIPPING_RATES/)
  })
})
