import http from 'node:http'

/**
 * kamal-proxy, or a balancer in front of several hosts, in miniature: each request goes to the
 * next of the ports `ports()` names at that moment, in turn; 502 when that one is gone.
 */
export function startBalancer(ports: () => readonly number[]): Promise<{ port: number; url: string; close(): Promise<void> }> {
  let turn = 0
  const balancer = http.createServer((req, res) => {
    const targets = ports()
    const port = targets[turn++ % targets.length]!
    const upstream = http.request({ host: '127.0.0.1', port, method: req.method, path: req.url, headers: req.headers }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers)
      up.pipe(res)
    })
    upstream.on('error', () => {
      if (!res.headersSent) res.writeHead(502)
      res.end()
    })
    req.pipe(upstream)
  })
  return new Promise((resolve) =>
    balancer.listen(0, '127.0.0.1', () => {
      const address = balancer.address()
      const port = typeof address === 'object' && address ? address.port : 0
      resolve({ port, url: `http://127.0.0.1:${port}`, close: () => new Promise<void>((r) => balancer.close(() => r())) })
    }),
  )
}
