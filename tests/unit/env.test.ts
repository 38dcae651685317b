import { describe, expect, it } from 'vitest'
import { ConfigError, parseEnv, VALID_VALUES } from '@/lib/env'

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

  it('parses the emulator tax rates per country, leaves them to the emulator when unset, and rejects bad ones', () => {
    expect(parseEnv({ PAYMENTS_EMULATOR_TAX_RATES: 'gb:20, DE:19,US:8.25' }).emulatorTaxRates).toEqual({ GB: 20, DE: 19, US: 8.25 })
    expect(parseEnv({}).emulatorTaxRates).toBeUndefined()
    for (const bad of ['GB=20', 'GB:101', 'GBR:20', 'GB:20,GB:5', 'GB:7.125']) {
      expect(() => parseEnv({ PAYMENTS_EMULATOR_TAX_RATES: bad }), bad).toThrow(/PAYMENTS_EMULATOR_TAX_RATES/)
    }
  })
})

describe('env: Stripe Tax settings', () => {
  it('is off by default, with the general tangible goods code and exclusive tax', () => {
    const env = parseEnv({})
    expect(env.isStripeTaxEnabled).toBe(false)
    expect(env.stripeTaxCode).toBe('txcd_99999999')
    expect(env.stripeTaxBehavior).toBe('exclusive')
  })

  it('reads STRIPE_TAX, STRIPE_TAX_CODE and STRIPE_TAX_BEHAVIOR', () => {
    const env = parseEnv({ STRIPE_TAX: 'on', STRIPE_TAX_CODE: 'txcd_30011000', STRIPE_TAX_BEHAVIOR: 'inclusive' })
    expect(env.isStripeTaxEnabled).toBe(true)
    expect(env.stripeTaxCode).toBe('txcd_30011000')
    expect(env.stripeTaxBehavior).toBe('inclusive')
  })

  it('names the variable when a value is bad', () => {
    expect(() => parseEnv({ STRIPE_TAX: '1' })).toThrow(/STRIPE_TAX: /)
    expect(() => parseEnv({ STRIPE_TAX_CODE: 'general' })).toThrow(/STRIPE_TAX_CODE: /)
    expect(() => parseEnv({ STRIPE_TAX_BEHAVIOR: 'both' })).toThrow(/STRIPE_TAX_BEHAVIOR: /)
  })
})

describe('env messages say what a valid value looks like', () => {
  // One bad value per key that can be wrong; each message must carry an example.
  const bad: Record<string, string> = {
    NODE_ENV: 'prod',
    PORT: 'eighty',
    APP_URL: 'shop.example.com',
    STORAGE_DIR: ' ',
    STRIPE_SECRET_KEY: 'pk_test_abc',
    STRIPE_WEBHOOK_SECRET: 'secret',
    STRIPE_API_BASE: 'ftp://x',
    PAYMENTS: 'paypal',
    ADMIN_EMAIL: 'owner',
    ADMIN_PASSWORD: 'short',
    SEED_DEMO: 'yes',
    LOG_LEVEL: 'loud',
    SMTP_URL: 'http://mail',
    MAIL_FROM: 'x',
    STORE_NAME: 'x'.repeat(61),
    CURRENCY: 'dollars',
    SHIPPING_COUNTRIES: 'USA',
    SHIPPING_RATES: 'free',
    PAYMENTS_EMULATOR_TAX_RATES: 'GB',
    JOBS: 'maybe',
    STRIPE_TAX: 'yes',
    STRIPE_TAX_CODE: '99999999',
    STRIPE_TAX_BEHAVIOR: 'included',
  }

  for (const [key, value] of Object.entries(bad)) {
    it(`${key}=${JSON.stringify(value.slice(0, 12))} names the key and shows a valid example`, () => {
      let message = ''
      try {
        parseEnv({ [key]: value })
      } catch (err) {
        expect(err).toBeInstanceOf(ConfigError)
        message = (err as ConfigError).issues.find((i) => i.startsWith(`${key}:`)) ?? ''
      }
      expect(message).toMatch(new RegExp(`^${key}: .+\\(expected .*e\\.g\\. ${key}=\\S+`))
    })
  }

  it('gives APP_URL a concrete example', () => {
    expect(() => parseEnv({ APP_URL: 'notaurl' })).toThrow('APP_URL: Invalid URL (expected the public address of the shop with http(s) and no path, e.g. APP_URL=https://shop.example.com)')
  })

  it('explains the keys that are required together', () => {
    expect(() => parseEnv({ NODE_ENV: 'production' })).toThrow(/STRIPE_SECRET_KEY: required when PAYMENTS=stripe.*\(expected .*e\.g\. STRIPE_SECRET_KEY=sk_live_/)
  })

  it('has an example for every key it reads', () => {
    for (const [key, text] of Object.entries(VALID_VALUES)) expect(text, key).toMatch(key.startsWith('NEXT_') ? /leave it unset/ : new RegExp(`e\\.g\\. ${key}=`))
  })
})
