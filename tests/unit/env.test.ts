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

  it('keeps idle connections 65 s by default and names KEEP_ALIVE_TIMEOUT when it is bad', () => {
    expect(parseEnv({}).keepAliveTimeoutMs).toBe(65_000)
    expect(parseEnv({ KEEP_ALIVE_TIMEOUT: '120000' }).keepAliveTimeoutMs).toBe(120_000)
    for (const bad of ['0', '5', 'soon', '2.5', '9999999']) expect(() => parseEnv({ KEEP_ALIVE_TIMEOUT: bad })).toThrow(/KEEP_ALIVE_TIMEOUT/)
  })

  it('reads DATABASE_URL as libpq does, and names it without repeating its password when it is bad', () => {
    expect(parseEnv({}).databaseUrl).toBeUndefined()
    expect(parseEnv({ DATABASE_URL: '  ' }).databaseUrl).toBeUndefined()
    const url = parseEnv({ DATABASE_URL: 'postgres://till:s3cret@db1,db2:5433/shop?target_session_attrs=read-write' }).databaseUrl
    expect(url).toMatchObject({ user: 'till', password: 's3cret', database: 'shop', hosts: [{ host: 'db1', port: 5432 }, { host: 'db2', port: 5433 }] })
    for (const bad of ['mysql://till:s3cret@db/shop', 'postgres://till:s3cret@db1,db2/shop', 'postgres://till:s3cret@db/shop?statement_timeout=5']) {
      let message = ''
      try {
        parseEnv({ DATABASE_URL: bad })
      } catch (err) {
        message = (err as ConfigError).message
      }
      expect(message, bad).toMatch(/^Invalid configuration:\n {2}- DATABASE_URL: (must start|names 2 hosts|has an unknown parameter)/)
      expect(message).not.toContain('s3cret')
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
      expect(message).toMatch(new RegExp(`^${key}: .+\\. Use .*e\\.g\\. ${key}=\\S+`))
      // in plain words, each said once: none of the validator's own wording
      expect(message).not.toMatch(/Invalid|received|expected|NaN|Too (small|big)/)
      expect(message.split(' Use ')).toHaveLength(2)
    })
  }

  it('gives APP_URL a concrete example', () => {
    expect(() => parseEnv({ APP_URL: 'notaurl' })).toThrow('APP_URL: "notaurl" is not valid. Use the public address of the shop with http(s) and no path, e.g. APP_URL=https://shop.example.com.')
  })

  it('explains the keys that are required together', () => {
    expect(() => parseEnv({ NODE_ENV: 'production' })).toThrow(/STRIPE_SECRET_KEY: required with real payments .*set PAYMENTS=emulator\. Use .*e\.g\. STRIPE_SECRET_KEY=sk_live_/)
  })

  it('has an example for every key it reads', () => {
    for (const [key, text] of Object.entries(VALID_VALUES)) expect(text, key).toMatch(key.startsWith('NEXT_') ? /leave it unset/ : new RegExp(`e\\.g\\. ${key}=`))
  })
})

describe('env messages in plain words, each once', () => {
  const issuesOf = (source: Record<string, string>) => {
    try {
      parseEnv(source)
    } catch (err) {
      if (err instanceof ConfigError) return err.issues
      throw err
    }
    return []
  }

  it('says what a number key was given, not what the validator expected', () => {
    expect(issuesOf({ PORT: 'abc' })).toEqual(['PORT: "abc" is not valid. Use a port number from 1 to 65535, e.g. PORT=3000.'])
    expect(issuesOf({ PAYMENTS: 'paypal' })).toEqual(['PAYMENTS: "paypal" is not valid. Use stripe or emulator, e.g. PAYMENTS=stripe.'])
  })

  it('never repeats a secret back', () => {
    const [message] = issuesOf({ STRIPE_SECRET_KEY: 'pk_live_verysecret' })
    expect(message).toMatch(/^STRIPE_SECRET_KEY: the value given is not valid\. Use /)
    expect(message).not.toContain('verysecret')
  })

  it('does not call PAYMENTS=stripe a production requirement when production was not asked for', () => {
    const dev = issuesOf({ PAYMENTS: 'stripe' })
    expect(dev.map((m) => m.split(':')[0])).toEqual(['STRIPE_SECRET_KEY', 'STRIPE_WEBHOOK_SECRET'])
    // the built server runs as production (server/start.ts): APP_URL is needed, said why
    const built = issuesOf({ PAYMENTS: 'stripe', NODE_ENV: 'production', STRIPE_SECRET_KEY: 'sk_test_x', STRIPE_WEBHOOK_SECRET: 'whsec_x' })
    expect(built).toEqual(['APP_URL: required with PAYMENTS=stripe on the built server: Stripe sends shoppers back to this address. Use the public address of the shop with http(s) and no path, e.g. APP_URL=https://shop.example.com.'])
    for (const message of [...dev, ...built]) expect(message).not.toMatch(/in production|expected/)
  })

  it('refuses ADMIN_EMAIL without ADMIN_PASSWORD, and the reverse, naming the missing one', () => {
    expect(issuesOf({ ADMIN_EMAIL: 'owner@example.com' })).toEqual([expect.stringMatching(/^ADMIN_PASSWORD: missing while ADMIN_EMAIL is set; set both .* or neither and run npm run admin:create\. Use /)])
    expect(issuesOf({ ADMIN_PASSWORD: 'a long enough password' })).toEqual([expect.stringMatching(/^ADMIN_EMAIL: missing while ADMIN_PASSWORD is set/)])
    expect(issuesOf({ ADMIN_EMAIL: 'owner@example.com', ADMIN_PASSWORD: 'a long enough password' })).toEqual([])
  })

  it('gives a transform its own specific words', () => {
    expect(issuesOf({ SHIPPING_RATES: 'Standard:5.00:3-5' })).toEqual(['SHIPPING_RATES: "Standard:5.00:3-5" is not a Name:cents:min-max rate. Use comma-separated Name:cents:min-max days, e.g. SHIPPING_RATES=Standard:500:3-5,Express:1500:1-2.'])
  })
})

describe('a production start with nothing set', () => {
  it('says each requirement once, without repeating itself', () => {
    let issues: string[] = []
    try {
      parseEnv({ NODE_ENV: 'production' })
    } catch (err) {
      issues = (err as ConfigError).issues
    }
    expect(issues.map((m) => m.split(':')[0])).toEqual(['STRIPE_SECRET_KEY', 'STRIPE_WEBHOOK_SECRET', 'APP_URL'])
    for (const message of issues) {
      expect(message.match(/built server/g) ?? []).toHaveLength(1)
      expect(message.match(/ Use /g)).toHaveLength(1)
    }
  })
})
