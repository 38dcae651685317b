import { sql } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import { InvalidInput, NotFound } from '@/lib/errors'
import * as orderNotes from '@/lib/orders/notes'
import { ENGINES, insertOrder, useEngine, type TestEngine } from '../support/engines'

// The owner's and staff's notes on an order (lib/orders/notes.ts), the first noun written on
// db/tx.ts: the same tests on SQLite and on PostgreSQL (migrated by db/pg/migrate.ts), and on
// PostgreSQL several app servers adding notes at once.

const owner = { id: 1, email: 'owner@example.com' }
const staff = { id: 2, email: 'staff@example.com' }

/** The audit rows of notes on an order, their JSON read the same way on both engines. */
async function audited(engine: TestEngine, orderId: number) {
  const rows = await engine.rows<{ email: string; after: unknown }>(
    sql`SELECT admin_email AS email, after FROM audit_log WHERE action = 'order.note' AND subject = ${`order:${orderId}`} ORDER BY id`,
  )
  // SQLite keeps JSON as text; node-postgres parses a json column
  return rows.map((r) => ({ email: r.email, after: (typeof r.after === 'string' ? JSON.parse(r.after) : r.after) as { noteId: number; body: string } }))
}

describe.each(ENGINES)('order notes on %s', (name) => {
  const engine = useEngine(name)

  it('keeps several notes in order, signed and audited in the same transaction, and refuses empty or long ones', async () => {
    const id = await insertOrder(engine, 'a')
    const first = await orderNotes.add(owner, id, '  Customer called: ship Monday.  ', 1000)
    const second = await orderNotes.add(staff, id, '<b>fragile</b>\r\nsecond line', 2000)
    const notes = await orderNotes.forOrder(id)
    expect(notes).toEqual([
      { id: first, adminEmail: 'owner@example.com', body: 'Customer called: ship Monday.', createdAt: 1000 },
      { id: second, adminEmail: 'staff@example.com', body: '<b>fragile</b>\nsecond line', createdAt: 2000 },
    ])
    expect(await audited(engine, id)).toEqual([
      { email: 'owner@example.com', after: { noteId: first, body: 'Customer called: ship Monday.' } },
      { email: 'staff@example.com', after: { noteId: second, body: '<b>fragile</b>\nsecond line' } },
    ])
    expect(await orderNotes.forOrder(await insertOrder(engine, 'b'))).toEqual([])

    await expect(orderNotes.add(owner, id, '   ')).rejects.toThrow(InvalidInput)
    await expect(orderNotes.add(owner, id, 'x'.repeat(orderNotes.BODY_MAX + 1))).rejects.toThrow(/at most 2000 characters/)
    // an order that is not there: neither the note nor its audit row is written
    await expect(orderNotes.add(owner, 999_999, 'hello')).rejects.toThrow(NotFound)
    expect(await engine.count(sql`SELECT count(*) AS n FROM order_notes`)).toBe(2)
    expect(await engine.count(sql`SELECT count(*) AS n FROM audit_log`)).toBe(2)
  })

  it.runIf(name === 'postgres')('two app servers adding 40 notes to one order at once lose none, each with its own audit row', async () => {
    const id = await insertOrder(engine, 'busy')
    const servers = engine.appServers(2)
    try {
      const bodies = Array.from({ length: 40 }, (_, n) => `note ${n}`)
      const ids = await Promise.all(bodies.map((body, n) => orderNotes.add(n % 2 ? staff : owner, id, body, 1000 + n)))
      expect(new Set(ids).size).toBe(40)
      const notes = await orderNotes.forOrder(id)
      expect(notes.map((n) => n.body)).toEqual(bodies)
      expect(notes.map((n) => n.id).sort((a, b) => a - b)).toEqual([...ids].sort((a, b) => a - b))
      const audit = await audited(engine, id)
      expect(audit.map((a) => a.after).sort((a, b) => a.noteId - b.noteId)).toEqual(notes.map((n) => ({ noteId: n.id, body: n.body })).sort((a, b) => a.noteId - b.noteId))
    } finally {
      await servers.end()
    }
  })
})
