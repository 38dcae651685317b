// The Stripe-compatible server (tests/support/stripe-server.ts) in a process of its own, for
// `npm run bench -- --engine postgres`: several app servers must read the same sessions, so
// they cannot each use the emulator built into their own process, and in the bench's process
// it would share one event loop with the load generator. Prints one JSON line (its address and
// keys) once it listens; runs until SIGTERM. No webhook address: the bench sends the events.
import { startStripeServer } from '../../tests/support/stripe-server'

async function main() {
  const server = await startStripeServer({ isBackgroundOn: false })
  process.stdout.write(`${JSON.stringify({ url: server.url, port: server.port, secretKey: server.secretKey, webhookSecret: server.webhookSecret })}\n`)
  process.once('SIGTERM', () => {
    void server.close().finally(() => process.exit(0))
  })
}

void main()
