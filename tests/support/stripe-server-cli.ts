import { parseArgs } from 'node:util'
import { startStripeServer } from './stripe-server'

// The local Stripe-compatible server as its own process, for e2e and chaos tests:
//   npx tsx tests/support/stripe-server-cli.ts --port 12111 --webhook-url http://127.0.0.1:3000/api/stripe/webhook \
//     [--secret-key sk_test_…] [--webhook-secret whsec_…] [--db-file path] [--async-delay-ms 4000]
//     [--retry-schedule 1000,2000,5000] [--webhook-timeout-ms 10000] [--tax-rates GB:20,DE:19] [--verbose]
// Prints one JSON line {"url","port","host","dbFile"} when it is listening; SIGTERM/SIGINT stop it.

const { values } = parseArgs({
  options: {
    port: { type: 'string' },
    'webhook-url': { type: 'string' },
    'secret-key': { type: 'string' },
    'webhook-secret': { type: 'string' },
    'db-file': { type: 'string' },
    'async-delay-ms': { type: 'string' },
    'retry-schedule': { type: 'string' },
    'webhook-timeout-ms': { type: 'string' },
    'tax-rates': { type: 'string' },
    verbose: { type: 'boolean' },
  },
  strict: true,
})

function int(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined
  const n = Number(value)
  if (!Number.isSafeInteger(n) || n < 0) {
    console.error(`stripe-server: --${name} must be a non-negative integer, got "${value}"`)
    process.exit(2)
  }
  return n
}

const retrySchedule = values['retry-schedule']?.split(',').map((v) => int('retry-schedule', v.trim())!)
const taxRates = values['tax-rates']
  ? Object.fromEntries(
      values['tax-rates'].split(',').map((pair) => {
        const [country, percent] = pair.split(':').map((v) => v.trim())
        if (!country || !/^[A-Za-z]{2}$/.test(country) || !percent || !Number.isFinite(Number(percent))) {
          console.error(`stripe-server: --tax-rates expects CC:percent pairs, got "${pair}"`)
          process.exit(2)
        }
        return [country.toUpperCase(), Number(percent)]
      }),
    )
  : undefined
const line = (level: string) => (message: string, context?: Record<string, unknown>) => console.error(`${level} ${message}${context ? ' ' + JSON.stringify(context, (_k, v: unknown) => (v instanceof Error ? v.message : v)) : ''}`)

async function main() {
  const server = await startStripeServer({
    port: int('port', values.port),
    webhookUrl: values['webhook-url'],
    secretKey: values['secret-key'],
    webhookSecret: values['webhook-secret'],
    dbFile: values['db-file'],
    asyncDelayMs: int('async-delay-ms', values['async-delay-ms']),
    retrySchedule,
    webhookTimeoutMs: int('webhook-timeout-ms', values['webhook-timeout-ms']),
    taxRates,
    log: { info: values.verbose ? line('INFO') : () => {}, warn: line('WARN'), error: line('ERROR') },
  })
  // The keys are random unless given: print them so the caller can talk to this server.
  console.log(JSON.stringify({ url: server.url, port: server.port, host: server.host, dbFile: server.dbFile, secretKey: server.secretKey, webhookSecret: server.webhookSecret }))

  let isStopping = false
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.on(signal, () => {
      if (isStopping) return
      isStopping = true
      void server.close().then(() => process.exit(0))
    })
  }
}

main().catch((err) => {
  console.error('stripe-server: could not start', err)
  process.exit(1)
})
