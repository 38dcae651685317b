import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { expect, test } from 'vitest'
import { postmasterPid, ratioOf, storeEnv, turnOrder, type Payments } from '../../bench/lib/engine-stores'

// The logic of `npm run bench -- --engine postgres`'s store rows, not its timings.

test('the engines take turns: each goes first in every other round, and both run every round', () => {
  const rounds = [0, 1, 2, 3].map(turnOrder)
  for (const order of rounds) expect([...order].sort()).toEqual(['postgres', 'sqlite'])
  expect(rounds.map((order) => order[0])).toEqual(['sqlite', 'postgres', 'sqlite', 'postgres'])
})

test("a ratio is PostgreSQL's figure over SQLite's, and no figure rather than a made-up one when either is missing", () => {
  expect(ratioOf(12, 40)).toBeCloseTo(0.3)
  expect(ratioOf(30, 10)).toBe(3)
  expect(ratioOf(NaN, 10)).toBeNaN()
  expect(ratioOf(10, 0)).toBeNaN()
  expect(ratioOf(10, Number.POSITIVE_INFINITY)).toBeNaN()
})

test('every store of the part takes payments from the one payments server; only PostgreSQL stores get DATABASE_URL', () => {
  const payments = { url: 'http://127.0.0.1:4242', port: 4242, secretKey: 'sk_test_x', webhookSecret: 'whsec_x' } as Payments
  const url = 'postgres://postgres@127.0.0.1:5999/till'
  expect(storeEnv(payments)).toEqual({ PAYMENTS: 'stripe', STRIPE_API_BASE: payments.url, STRIPE_SECRET_KEY: 'sk_test_x', STRIPE_WEBHOOK_SECRET: 'whsec_x' })
  expect(storeEnv(payments, url)).toEqual({ ...storeEnv(payments), DATABASE_URL: url })
})

test("the postmaster's pid is the first line of postmaster.pid in the cluster's data folder", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'till-bench-pid-'))
  try {
    fs.mkdirSync(path.join(dir, 'data'))
    fs.writeFileSync(path.join(dir, 'data', 'postmaster.pid'), '4321\n/tmp/x/data\n1733500000\n5999\n')
    expect(postmasterPid(dir)).toBe(4321)
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
})
