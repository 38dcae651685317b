// The bench's raw node:http baselines, run as their own process (node bench/raw-server.mjs):
//   pages <file.json>   serves the bytes recorded in the file ({ path: { type, body (base64) } })
//   webhook <db file>   POST /webhook: Stripe's signature check (the stripe SDK's
//                       constructEvent) and one SQLite insert (WAL, synchronous=FULL), nothing else
//   webhook-read <db file>  the same, with the one Stripe read the store makes for such an
//                       event between the two: the session with its line items, payment intent
//                       and charge, retrieved with the stripe SDK from the API at
//                       $BENCH_STRIPE_API (the store's built-in emulator) with $BENCH_STRIPE_KEY
// Listens on 127.0.0.1:$PORT; GET /up answers 200 in both modes.
import http from 'node:http'

const [mode, arg] = process.argv.slice(2)
let handler

if (mode === 'pages') {
  const { readFileSync } = await import('node:fs')
  const pages = new Map(Object.entries(JSON.parse(readFileSync(arg, 'utf8'))).map(([p, page]) => [p, { type: page.type, body: Buffer.from(page.body, 'base64') }]))
  handler = (req, res) => {
    const page = pages.get(req.url)
    if (!page) {
      res.writeHead(404).end()
      return
    }
    res.writeHead(200, { 'Content-Type': page.type, 'Content-Length': page.body.length })
    res.end(page.body)
  }
} else if (mode === 'webhook' || mode === 'webhook-read') {
  const { default: Database } = await import('better-sqlite3')
  const { default: Stripe } = await import('stripe')
  const secret = process.env.BENCH_WEBHOOK_SECRET
  const stripe = new Stripe('sk_test_bench_raw_route')
  const db = new Database(arg)
  db.pragma('journal_mode = WAL')
  db.pragma('synchronous = FULL')
  db.exec('CREATE TABLE IF NOT EXISTS events (id TEXT NOT NULL, type TEXT NOT NULL, received_at INTEGER NOT NULL)')
  const insert = db.prepare('INSERT INTO events (id, type, received_at) VALUES (?, ?, ?)')
  let reader = null
  if (mode === 'webhook-read') {
    const api = new URL(process.env.BENCH_STRIPE_API)
    reader = new Stripe(process.env.BENCH_STRIPE_KEY, { host: api.hostname, port: api.port, protocol: 'http', maxNetworkRetries: 2 })
  }
  // What lib/payments/stripe.ts (readCheckout) asks for a session with no order yet.
  const expand = ['shipping_cost.shipping_rate', 'payment_intent.latest_charge', 'line_items.data.price.product']
  handler = (req, res) => {
    const chunks = []
    req.on('data', (c) => chunks.push(c))
    req.on('end', async () => {
      let event
      try {
        event = stripe.webhooks.constructEvent(Buffer.concat(chunks), req.headers['stripe-signature'] ?? '', secret)
      } catch {
        res.writeHead(400, { 'Content-Type': 'application/json' }).end('{"error":"bad signature"}')
        return
      }
      if (reader) {
        try {
          await reader.checkout.sessions.retrieve(event.data.object.id, { expand })
        } catch {
          res.writeHead(500, { 'Content-Type': 'application/json' }).end('{"error":"stripe read failed"}')
          return
        }
      }
      insert.run(event.id, event.type, Date.now())
      res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"received":true}')
    })
  }
} else {
  console.error('usage: raw-server.mjs pages <file.json> | webhook <db file> | webhook-read <db file>')
  process.exit(2)
}

const server = http.createServer((req, res) => {
  if (req.url === '/up') res.writeHead(200).end('ok')
  else handler(req, res)
})
server.listen(Number(process.env.PORT), '127.0.0.1')
process.on('SIGTERM', () => server.close(() => process.exit(0)))
