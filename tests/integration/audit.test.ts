import { sql } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import { read, serialize } from '@/db/tx'
import * as audit from '@/lib/audit'
import { ENGINES, useEngine, type TestEngine } from '../support/engines'

// The audit log's own writes (lib/audit.ts) on both engines. noteOnce has a rule, "once per
// action and subject", decided by a read with no row to lock: on PostgreSQL two app servers
// answering the two requests of a double submit at once must still record it once.

const owner = { id: 1, email: 'owner@example.com' }

const rowsOf = (engine: TestEngine, action: string) =>
  engine.rows<{ subject: string; after: unknown }>(sql`SELECT subject, after FROM audit_log WHERE action = ${action} ORDER BY id`).then((rows) =>
    // SQLite keeps JSON as text; node-postgres parses a json column
    rows.map((r) => ({ subject: r.subject, after: typeof r.after === 'string' ? JSON.parse(r.after) : r.after })),
  )

describe.each(ENGINES)('the audit log on %s', (name) => {
  const engine = useEngine(name)

  it('notes an action each time, and noteOnce once per action and subject', async () => {
    await audit.note(owner, 'reconcile.run', 'reconcile', { eventsSeen: 3 })
    await audit.note(owner, 'reconcile.run', 'reconcile', { eventsSeen: 0 })
    expect(await rowsOf(engine, 'reconcile.run')).toEqual([
      { subject: 'reconcile', after: { eventsSeen: 3 } },
      { subject: 'reconcile', after: { eventsSeen: 0 } },
    ])
    await audit.noteOnce(owner, 'discount.create', 'promotion_code:promo_1', { code: 'SPRING' })
    await audit.noteOnce(owner, 'discount.create', 'promotion_code:promo_1', { code: 'SPRING, again' })
    await audit.noteOnce(owner, 'discount.create', 'promotion_code:promo_2', { code: 'SUMMER' })
    expect(await rowsOf(engine, 'discount.create')).toEqual([
      { subject: 'promotion_code:promo_1', after: { code: 'SPRING' } },
      { subject: 'promotion_code:promo_2', after: { code: 'SUMMER' } },
    ])
  })

  it("lists the log newest first, a page at a time, as the owner's audit page shows it", async () => {
    for (let i = 1; i <= 53; i++) await audit.note(owner, 'reconcile.run', `run ${i}`)
    const first = await audit.list(1)
    expect([first.total, first.pageCount, first.rows.length]).toEqual([await engine.count(sql`SELECT count(*) AS n FROM audit_log`), 2, 50])
    expect(first.rows.slice(0, 2).map((r) => r.subject)).toEqual(['run 53', 'run 52'])
    const second = await audit.list(2)
    expect(second.rows.map((r) => [r.subject, r.adminEmail])).toEqual([
      ['run 3', owner.email],
      ['run 2', owner.email],
      ['run 1', owner.email],
    ])
  })

  it('refuses serialize() outside a write transaction', async () => {
    await expect(read(() => serialize('k'))).rejects.toThrow(/write transaction/)
  })

  it.runIf(name === 'postgres')('a double submit reaching two app servers at once is recorded once per subject', async () => {
    const servers = engine.appServers(2)
    try {
      // 3 subjects, each sent 8 times at once, alternating between the servers
      const subjects = ['promo_a', 'promo_b', 'promo_c']
      await Promise.all(Array.from({ length: 24 }, (_, n) => audit.noteOnce(owner, 'discount.create', `promotion_code:${subjects[n % 3]}`, { n })))
      const rows = await rowsOf(engine, 'discount.create')
      expect(rows.map((r) => r.subject).sort()).toEqual(subjects.map((s) => `promotion_code:${s}`))
    } finally {
      await servers.end()
    }
  })
})
