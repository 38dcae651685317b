import { describe, expect, it } from 'vitest'
import * as jobs from '@/lib/jobs'

// The queue's arithmetic, without the database: the slot a timer means and the backoff. The
// queue itself, its leases and its worker are tested on both engines in
// tests/integration/jobs.test.ts.

describe('jobs', () => {
  it('keys a slot by its scheduled time, not by when each process’s timer fired', () => {
    // Two processes' timers fire a few milliseconds apart, and late; both mean 08:05.
    const a = jobs.slotOf('*/5 * * * *', new Date('2026-11-24T08:05:00.000Z'))
    const b = jobs.slotOf('*/5 * * * *', new Date('2026-11-24T08:05:00.347Z'))
    const late = jobs.slotOf('*/5 * * * *', new Date('2026-11-24T08:06:12.010Z'))
    expect(a.toISOString()).toBe('2026-11-24T08:05:00.000Z')
    expect(b.toISOString()).toBe(a.toISOString())
    expect(late.toISOString()).toBe(a.toISOString())
    // a seconds-resolution cron truncates to its own second
    expect(jobs.slotOf('*/2 * * * * *', new Date('2026-11-24T08:05:03.900Z')).toISOString()).toBe('2026-11-24T08:05:02.000Z')
  })

  it('backoff doubles and is capped', () => {
    expect(jobs.backoffMs(1)).toBe(2000)
    expect(jobs.backoffMs(3)).toBe(8000)
    expect(jobs.backoffMs(30)).toBe(3600_000)
  })
})
