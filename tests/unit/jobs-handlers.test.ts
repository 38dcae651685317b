import { afterEach, describe, expect, it } from 'vitest'
import { resetEnv } from '@/lib/env'
import { everyMinutes, handlers, schedules } from '@/lib/jobs/handlers'

afterEach(() => {
  delete process.env.BACKUP_INTERVAL_MINUTES
  resetEnv()
})

describe('scheduled work', () => {
  it('turns an interval in minutes into a cron', () => {
    expect(everyMinutes(5)).toBe('*/5 * * * *')
    expect(everyMinutes(60)).toBe('0 */1 * * *')
    expect(everyMinutes(180)).toBe('0 */3 * * *')
    expect(everyMinutes(24 * 60)).toBe('0 0 * * *')
  })

  it('backs up on the configured interval, and every scheduled kind has a handler', () => {
    process.env.BACKUP_INTERVAL_MINUTES = '120'
    resetEnv()
    const list = schedules()
    expect(list.find((s) => s.kind === 'backups.run')?.cron).toBe('0 */2 * * *')
    for (const schedule of list) expect(handlers[schedule.kind], schedule.kind).toBeTypeOf('function')
  })
})
