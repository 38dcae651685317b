import net from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { isNotPrimaryError, NoPrimary, PrimaryPool } from '@/db/pg/primary'
import { parseDatabaseUrl } from '@/db/pg/url'

// The pool against a real PostgreSQL cluster, failover included, is
// tests/failover/cluster.test.ts; these cover what needs no server.

/** A loopback port nothing listens on: connecting is refused at once. */
async function closedPort(): Promise<number> {
  const server = net.createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as net.AddressInfo
  await new Promise((resolve) => server.close(resolve))
  return port
}

const servers: net.Server[] = []
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))))
})

/** A host that accepts the connection and never says a word, like a frozen server. */
async function silentHost(): Promise<number> {
  const sockets: net.Socket[] = []
  const server = net.createServer((socket) => sockets.push(socket))
  server.on('close', () => sockets.forEach((s) => s.destroy()))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  servers.push(server)
  const close = server.close.bind(server)
  server.close = (cb) => {
    sockets.forEach((s) => s.destroy())
    return close(cb)
  }
  return (server.address() as net.AddressInfo).port
}

function sqlError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code })
}

describe('isNotPrimaryError', () => {
  it('recognizes a server that stopped being the primary or a connection that died', () => {
    const notPrimary = [
      sqlError('57P01', 'terminating connection due to administrator command'),
      sqlError('57P02', 'terminating connection because of crash of another server process'),
      sqlError('57P03', 'the database system is in recovery mode'),
      sqlError('25006', 'cannot execute INSERT in a read-only transaction'),
      sqlError('08006', 'connection failure'),
      sqlError('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:5432'),
      sqlError('ECONNRESET', 'read ECONNRESET'),
      new Error('Connection terminated unexpectedly'),
      new Error('Client has encountered a connection error and is not queryable'),
      new Error('the database system is starting up'),
      new Error('Connection terminated due to connection timeout', { cause: new Error('timeout expired') }),
      new Error('wrapped', { cause: sqlError('57P01', 'terminating connection due to administrator command') }),
    ]
    for (const err of notPrimary) expect(isNotPrimaryError(err), err.message).toBe(true)
  })

  it('leaves the errors a transaction retries or reports as they are', () => {
    const others = [
      sqlError('40001', 'could not serialize access due to concurrent update'),
      sqlError('40P01', 'deadlock detected'),
      sqlError('23505', 'duplicate key value violates unique constraint "orders_pkey"'),
      sqlError('42P01', 'relation "orders" does not exist'),
      new Error('timeout exceeded when trying to connect'),
      'Connection terminated',
      undefined,
    ]
    for (const err of others) expect(isNotPrimaryError(err), String(err)).toBe(false)
  })
})

describe('PrimaryPool without a primary', () => {
  it('gives up after the wait with NoPrimary, one search however many callers wait', async () => {
    const ports = [await closedPort(), await closedPort()]
    const url = parseDatabaseUrl(`postgres://till:secret@127.0.0.1:${ports[0]},127.0.0.1:${ports[1]}/till?target_session_attrs=read-write`)
    const changes: unknown[] = []
    const pool = new PrimaryPool(url, { waitForPrimaryMillis: 600, onPrimaryChange: (p) => changes.push(p) })
    const results = await Promise.allSettled(Array.from({ length: 12 }, () => pool.connect()))
    for (const result of results) {
      expect(result.status).toBe('rejected')
      expect((result as PromiseRejectedResult).reason).toBeInstanceOf(NoPrimary)
    }
    const message = ((results[0] as PromiseRejectedResult).reason as Error).message
    expect(message).toContain(`127.0.0.1:${ports[0]}`)
    expect(message).toContain('DATABASE_URL')
    expect(message).not.toContain('secret')
    expect(pool.searches).toBe(1)
    expect(pool.primary).toBeUndefined()
    expect(changes).toEqual([])

    // The next caller after a failed search starts a new one.
    await expect(pool.query('SELECT 1')).rejects.toBeInstanceOf(NoPrimary)
    expect(pool.searches).toBe(2)
    await pool.end()
  })

  it('is not held up past its wait by a host that accepts connections and never answers', async () => {
    const url = parseDatabaseUrl(`postgres://till@127.0.0.1:${await silentHost()},127.0.0.1:${await closedPort()}/till?target_session_attrs=read-write`)
    const pool = new PrimaryPool(url, { waitForPrimaryMillis: 300, probeTimeoutMillis: 200 })
    await expect(pool.connect()).rejects.toBeInstanceOf(NoPrimary)
    await pool.end()
  })

  it('refuses callers once ended', async () => {
    const pool = new PrimaryPool(parseDatabaseUrl(`postgres://127.0.0.1:${await closedPort()}/till`))
    await pool.end()
    await expect(pool.connect()).rejects.toThrow(/ended/)
  })
})
