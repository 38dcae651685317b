import { performance } from 'node:perf_hooks'
import autocannon from 'autocannon'

// One load run with autocannon, in this process: the servers under test run in their own
// processes, so the load generator competes with each of them for the same two cores alike.

export type LoadOptions = {
  url: string
  connections: number
  /** seconds; ignored when `amount` is set */
  duration: number
  amount?: number
  method?: 'GET' | 'POST'
  headers?: Record<string, string>
  /** requests cycled through by every connection, e.g. several paths */
  requests?: autocannon.Request[]
}

export type LoadResult = {
  /** successful (2xx) responses per second over the run */
  rps: number
  p50: number
  p99: number
  total: number
  non2xx: number
  errors: number
}

export async function load(options: LoadOptions): Promise<LoadResult> {
  // autocannon ends a run, and counts its length, in whole seconds. A run of a fixed amount
  // of requests is timed here instead, to its last response (the hook makes autocannon keep
  // each body, so it is used only there).
  const started = performance.now()
  let last = started
  const requests: autocannon.Request[] | undefined = options.amount
    ? (options.requests ?? [{}]).map((r) => ({
        ...r,
        onResponse: (status, body, context, headers) => {
          last = performance.now()
          if (typeof r.onResponse === 'function') r.onResponse(status, body, context, headers)
        },
      }))
    : options.requests
  const result = await autocannon({
    url: options.url,
    connections: options.connections,
    // autocannon refuses an undefined duration: give one or the other
    ...(options.amount ? { amount: options.amount } : { duration: options.duration }),
    ...(options.method ? { method: options.method } : {}),
    ...(options.headers ? { headers: options.headers } : {}),
    ...(requests ? { requests } : {}),
    timeout: 30,
  })
  const ok = result['2xx']
  const seconds = options.amount ? (last - started) / 1000 : options.duration
  return {
    rps: seconds > 0 ? ok / seconds : 0,
    p50: result.latency.p50,
    p99: result.latency.p99,
    total: result.requests.total,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
  }
}

/** Requests that each take the next path of `paths`, in turn, across all connections. */
export function cyclePaths(paths: string[], init: Omit<autocannon.Request, 'path' | 'setupRequest'> = {}): autocannon.Request[] {
  let next = 0
  return [
    {
      ...init,
      setupRequest: (request) => ({ ...request, path: paths[next++ % paths.length]! }),
    },
  ]
}
