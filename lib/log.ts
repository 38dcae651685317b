import 'server-only'
import { getEnv } from './env'

// Structured one-line logs: `log.error('checkout: session create failed', { cartId, err })`.
const LEVELS = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 } as const
type Level = Exclude<keyof typeof LEVELS, 'silent'>

function threshold(): number {
  try {
    return LEVELS[getEnv().logLevel]
  } catch {
    return LEVELS.info
  }
}

function serialize(context: Record<string, unknown> | undefined): string {
  if (!context) return ''
  const plain: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(context)) {
    plain[key] = value instanceof Error ? { name: value.name, message: value.message, stack: value.stack?.split('\n').slice(0, 4).join(' | ') } : value
  }
  return ' ' + JSON.stringify(plain)
}

function emit(level: Level, message: string, context?: Record<string, unknown>) {
  if (LEVELS[level] < threshold()) return
  const line = `${new Date().toISOString()} ${level.toUpperCase().padEnd(5)} ${message}${serialize(context)}`
  const capture = globalForLog.tillLogCaptures?.at(-1)
  if (capture) capture.lines.push(line)
  else if (level === 'error' || level === 'warn') console.error(line)
  else console.log(line)
}

export const log = {
  debug: (message: string, context?: Record<string, unknown>) => emit('debug', message, context),
  info: (message: string, context?: Record<string, unknown>) => emit('info', message, context),
  warn: (message: string, context?: Record<string, unknown>) => emit('warn', message, context),
  error: (message: string, context?: Record<string, unknown>) => emit('error', message, context),
}

// ---------------------------------------------------------------------------------------
// Capture: a test that provokes an error on purpose takes the lines instead of printing
// them, so a passing run shows no alarming ERROR, and the test can assert what was logged.

type Capture = { lines: string[]; stop: () => void }
const globalForLog = globalThis as unknown as { tillLogCaptures?: Capture[] }

/** Until stop(), every line (at or above LOG_LEVEL) goes to `lines` instead of the console. */
export function captureLogs(): Capture {
  const captures = (globalForLog.tillLogCaptures ??= [])
  const capture: Capture = {
    lines: [],
    stop: () => {
      const i = captures.indexOf(capture)
      if (i >= 0) captures.splice(i, 1)
    },
  }
  captures.push(capture)
  return capture
}
