import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import net from 'node:net'
import path from 'node:path'
import type { PgHost } from '@/db/pg/url'

// A throwaway three-member PostgreSQL cluster run by Patroni with one etcd, from Debian's
// `postgresql`, `patroni` and `etcd-server` packages, on loopback ports chosen at run time.
// Every member runs under tests/support/subreaper.py, so "kill the machine" kills Patroni,
// the postmaster it detached and every backend, and nothing outlives the test.

// Debian's own binaries by path: a python3 or patroni earlier on PATH (pyenv, a virtualenv)
// would be another interpreter, and one the postgres user may not be able to read.
const PG_BIN = '/usr/lib/postgresql/15/bin'
export const PYTHON = '/usr/bin/python3'
const PATRONI = '/usr/bin/patroni'
const ETCD = '/usr/bin/etcd'
export const HAPROXY = '/usr/sbin/haproxy'
export const SUBREAPER = path.join(import.meta.dirname, 'subreaper.py')
const SUPERUSER = { username: 'postgres', password: 'till-ha-test' }

/**
 * How long a test lets a failover take before it fails rather than hangs: not a target (the
 * measured pause is printed), a bound on a failover that is broken.
 */
export const FAILOVER_BOUND_MS = 60_000
const REPLICATION = { username: 'replicator', password: 'till-ha-replication' }

export interface Member {
  name: string
  pgPort: number
  apiPort: number
  dir: string
}

/** A member as Patroni's REST API reports it. */
interface MemberState {
  name: string
  role: 'leader' | 'sync_standby' | 'replica' | string
  state: string
  timeline?: number
  lag?: number | string
}

export interface Cluster {
  members: readonly Member[]
  /** Every member's PostgreSQL, in member order. */
  hosts: readonly PgHost[]
  /** libpq's multi-host URL over all members, as an app server would be given it. */
  url: string
  /** Waits until a leader runs with a synchronous standby attached, so writes can commit. */
  waitForLeader(timeoutMillis?: number): Promise<Member>
  /** Waits until every member runs: a leader, a synchronous standby and a streaming replica. */
  waitForHealthy(timeoutMillis?: number): Promise<MemberState[]>
  /** The current leader as Patroni reports it, if there is one. */
  leader(): Promise<Member | undefined>
  /** The members as Patroni reports them. */
  states(): Promise<MemberState[]>
  /** SIGKILLs every process of the leader's machine at once; resolves once they are gone. */
  killLeader(): Promise<{ member: Member; killedAt: number }>
  /** Asks Patroni to hand leadership to the synchronous standby, gracefully; resolves once it says it has. */
  switchover(): Promise<{ from: Member; requestedAt: number }>
  /** Starts a member's Patroni again on its data directory, as a machine coming back. */
  restart(member: Member): void
  /** The end of a member's Patroni and PostgreSQL log, for a failure message. */
  logTail(member: Member, lines?: number): string
  /**
   * Starts HAProxy in front of the members (Debian's `haproxy`), routing to whichever one
   * answers 200 on Patroni's `GET /primary`; resolves with its loopback address once it listens.
   */
  startHaproxy(): Promise<PgHost>
  /** Kills everything, removes the temporary folder, and throws if any process survived. */
  stop(): Promise<void>
}

function postgresUser(): { uid: number; gid: number } {
  const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim())
  return { uid: id('-u'), gid: id('-g') }
}

/** Free loopback ports, all held at once while chosen so no two are the same. */
async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: count }, async () => {
      const server = net.createServer()
      await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve))
      return server
    }),
  )
  const ports = servers.map((s) => (s.address() as net.AddressInfo).port)
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))))
  return ports
}

function patroniConfig(scope: string, member: Member, etcdPort: number): object {
  return {
    scope,
    name: member.name,
    restapi: { listen: `127.0.0.1:${member.apiPort}`, connect_address: `127.0.0.1:${member.apiPort}` },
    etcd3: { hosts: `127.0.0.1:${etcdPort}` },
    bootstrap: {
      dcs: {
        // Patroni requires ttl >= loop_wait + 2 * retry_timeout; a crashed leader is replaced
        // once its key expires, so the ttl is most of the pause a failover costs.
        ttl: 10,
        loop_wait: 2,
        retry_timeout: 4,
        // A commit is acknowledged only once a standby has it, and with strict mode never on the
        // primary alone: the promise that no acknowledged order is lost rests on this.
        synchronous_mode: true,
        synchronous_mode_strict: true,
        postgresql: {
          use_pg_rewind: true,
          use_slots: true,
          parameters: {
            synchronous_commit: 'on',
            // The default 5 s delays a standby reattaching to the new leader.
            wal_retrieve_retry_interval: '1s',
            // pg_rewind needs hint bits in the WAL (or data checksums).
            wal_log_hints: 'on',
            max_connections: 60,
            max_wal_senders: 10,
            max_replication_slots: 10,
          },
        },
      },
      initdb: [{ encoding: 'UTF8' }, { locale: 'C' }],
    },
    postgresql: {
      listen: `127.0.0.1:${member.pgPort}`,
      connect_address: `127.0.0.1:${member.pgPort}`,
      data_dir: path.join(member.dir, 'data'),
      bin_dir: PG_BIN,
      pgpass: path.join(member.dir, 'pgpass'),
      // Patroni reaches its own PostgreSQL through the socket in the member's folder.
      use_unix_socket: true,
      authentication: { superuser: SUPERUSER, replication: REPLICATION },
      parameters: { unix_socket_directories: member.dir, shared_buffers: '32MB' },
      pg_hba: [
        'local all all trust',
        `host replication ${REPLICATION.username} 127.0.0.1/32 scram-sha-256`,
        'host all all 127.0.0.1/32 scram-sha-256',
      ],
    },
    watchdog: { mode: 'off' },
  }
}

async function getJson(url: string): Promise<unknown> {
  const response = await fetch(url, { signal: AbortSignal.timeout(1_500) })
  if (!response.ok) throw new Error(`${url}: ${response.status}`)
  return response.json()
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * TCP passthrough to the member whose Patroni answers 200 on `GET /primary`. A member is
 * marked down after 3 failed checks a second apart, not one, so one slow answer under load
 * does not cut every connection; once down, its sessions are shut so no client keeps writing
 * to a demoted primary.
 */
function haproxyConfig(port: number, members: readonly Member[]): string {
  return [
    'global',
    '  maxconn 200',
    'defaults',
    '  mode tcp',
    '  timeout connect 2s',
    '  timeout client 30m',
    '  timeout server 30m',
    '  timeout check 2s',
    'listen primary',
    `  bind 127.0.0.1:${port}`,
    '  option httpchk GET /primary',
    '  http-check expect status 200',
    '  default-server inter 1s fall 3 rise 2 on-marked-down shutdown-sessions',
    ...members.map((m) => `  server ${m.name} 127.0.0.1:${m.pgPort} check port ${m.apiPort}`),
    '',
  ].join('\n')
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1')
    const done = (yes: boolean) => {
      socket.destroy()
      resolve(yes)
    }
    socket.once('connect', () => done(true))
    socket.once('error', () => done(false))
    socket.setTimeout(1_000, () => done(false))
  })
}

/** Processes whose working folder is inside `dir`: PostgreSQL's is its data folder. */
export function processesIn(dir: string): number[] {
  const found: number[] = []
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const cwd = fs.readlinkSync(`/proc/${entry}/cwd`)
      if (cwd === dir || cwd.startsWith(dir + '/')) found.push(Number(entry))
    } catch {
      // gone, or a kernel thread
    }
  }
  return found
}

/**
 * Starts etcd and three Patroni members as the `postgres` user, with data under a short
 * folder in /tmp (a Unix socket path must stay under 108 bytes). Returns once etcd answers;
 * call waitForHealthy() or waitForLeader() before using the database.
 */
export async function startCluster(): Promise<Cluster> {
  const user = postgresUser()
  const root = fs.mkdtempSync('/tmp/till-ha-')
  fs.chownSync(root, user.uid, user.gid)
  const scope = `till-${path.basename(root)}`
  const [etcdClient, etcdPeer, ...memberPorts] = await freePorts(8)
  const members: Member[] = [0, 1, 2].map((i) => ({
    name: `m${i}`,
    pgPort: memberPorts[2 * i]!,
    apiPort: memberPorts[2 * i + 1]!,
    dir: path.join(root, `m${i}`),
  }))
  const running = new Map<string, ChildProcess>()

  function run(name: string, dir: string, command: string[]): ChildProcess {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 })
    fs.chownSync(dir, user.uid, user.gid)
    const log = fs.openSync(path.join(root, `${name}.log`), 'a')
    fs.chownSync(path.join(root, `${name}.log`), user.uid, user.gid)
    const child = spawn(PYTHON, [SUBREAPER, String(process.pid), ...command], {
      cwd: dir,
      uid: user.uid,
      gid: user.gid,
      // Nothing of the test's own environment (DATABASE_URL, PG* variables) leaks into the cluster.
      env: { PATH: '/usr/bin:/bin', HOME: dir, LANG: 'C.UTF-8', LC_ALL: 'C.UTF-8', NODE_ENV: 'test' },
      stdio: ['ignore', log, log],
      // Its own session: a Ctrl-C at the terminal reaches the harness, whose death the
      // wrapper hears and acts on, instead of half the cluster.
      detached: true,
    })
    fs.closeSync(log)
    running.set(name, child)
    child.once('exit', () => {
      if (running.get(name) === child) running.delete(name)
    })
    return child
  }

  async function killMachine(name: string): Promise<void> {
    const child = running.get(name)
    if (!child || child.exitCode !== null || child.signalCode !== null) return
    const exited = new Promise((resolve) => child.once('exit', resolve))
    child.kill('SIGUSR1')
    await Promise.race([exited, sleep(10_000)])
    // The wrapper did not answer: kill it and everything it would have.
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  }

  function startMember(member: Member): void {
    fs.mkdirSync(member.dir, { recursive: true, mode: 0o700 })
    const config = path.join(member.dir, 'patroni.yml')
    // JSON is YAML, so no YAML writer is needed.
    fs.writeFileSync(config, JSON.stringify(patroniConfig(scope, member, etcdClient!), null, 2))
    fs.chownSync(config, user.uid, user.gid)
    run(member.name, member.dir, [PATRONI, config])
  }

  async function states(): Promise<MemberState[]> {
    for (const member of members) {
      try {
        const cluster = (await getJson(`http://127.0.0.1:${member.apiPort}/cluster`)) as { members: MemberState[] }
        return cluster.members
      } catch {
        // that member is down; ask the next
      }
    }
    return []
  }

  async function until<T>(what: string, timeoutMillis: number, check: () => Promise<T | undefined>): Promise<T> {
    const deadline = Date.now() + timeoutMillis
    for (;;) {
      const value = await check()
      if (value !== undefined) return value
      if (Date.now() > deadline) {
        const logs = members.map((m) => `--- ${m.name}\n${logTail(m, 15)}`).join('\n')
        throw new Error(`patroni: no ${what} after ${timeoutMillis} ms; members: ${JSON.stringify(await states())}\n${logs}`)
      }
      await sleep(200)
    }
  }

  const isRunning = (s: MemberState) => s.state === 'running' || s.state === 'streaming'

  async function leader(): Promise<Member | undefined> {
    const found = (await states()).find((s) => s.role === 'leader' && isRunning(s))
    return members.find((m) => m.name === found?.name)
  }

  function logTail(member: Member, lines = 40): string {
    try {
      return fs.readFileSync(path.join(root, `${member.name}.log`), 'utf8').split('\n').slice(-lines).join('\n')
    } catch {
      return '(no log)'
    }
  }

  let stopped = false
  async function stop(): Promise<void> {
    if (stopped) return
    stopped = true
    await Promise.all([...running.keys()].map(killMachine))
    // Anything still working in the cluster's folder escaped its wrapper: kill it too.
    for (let attempt = 0; attempt < 10; attempt++) {
      const left = processesIn(root)
      if (left.length === 0) break
      for (const pid of left) {
        try {
          process.kill(pid, 'SIGKILL')
        } catch {
          // already gone
        }
      }
      await sleep(200)
    }
    const survivors = processesIn(root)
    fs.rmSync(root, { recursive: true, force: true })
    if (survivors.length > 0) throw new Error(`patroni: processes survived the cluster's stop: ${survivors.join(', ')}`)
  }

  try {
    run('etcd', path.join(root, 'etcd'), [
      ETCD,
      '--name=e0',
      `--data-dir=${path.join(root, 'etcd', 'data')}`,
      `--listen-client-urls=http://127.0.0.1:${etcdClient}`,
      `--advertise-client-urls=http://127.0.0.1:${etcdClient}`,
      `--listen-peer-urls=http://127.0.0.1:${etcdPeer}`,
      `--initial-advertise-peer-urls=http://127.0.0.1:${etcdPeer}`,
      `--initial-cluster=e0=http://127.0.0.1:${etcdPeer}`,
      `--initial-cluster-token=${scope}`,
      '--initial-cluster-state=new',
    ])
    await until('etcd', 30_000, async () => {
      try {
        const health = (await getJson(`http://127.0.0.1:${etcdClient}/health`)) as { health?: string }
        return health.health === 'true' ? true : undefined
      } catch {
        return undefined
      }
    })
    for (const member of members) startMember(member)
  } catch (err) {
    await stop()
    throw err
  }

  return {
    members,
    hosts: members.map((m) => ({ host: '127.0.0.1', port: m.pgPort })),
    url: `postgres://${SUPERUSER.username}:${SUPERUSER.password}@${members.map((m) => `127.0.0.1:${m.pgPort}`).join(',')}/postgres?target_session_attrs=read-write`,
    states,
    leader,
    logTail,
    stop,
    async waitForLeader(timeoutMillis = 60_000) {
      return until('leader with a synchronous standby', timeoutMillis, async () => {
        const all = await states()
        const hasSync = all.some((s) => s.role === 'sync_standby' && isRunning(s))
        const found = all.find((s) => s.role === 'leader' && isRunning(s))
        return hasSync ? members.find((m) => m.name === found?.name) : undefined
      })
    },
    async waitForHealthy(timeoutMillis = 60_000) {
      return until('healthy cluster', timeoutMillis, async () => {
        const all = await states()
        const roles = all.filter(isRunning).map((s) => s.role)
        return all.length === 3 && roles.length === 3 && roles.includes('leader') && roles.includes('sync_standby') ? all : undefined
      })
    },
    async killLeader() {
      const member = await leader()
      if (!member) throw new Error('patroni: no leader to kill')
      const killedAt = Date.now()
      await killMachine(member.name)
      const left = processesIn(member.dir)
      if (left.length > 0) throw new Error(`patroni: ${member.name} killed, but processes ${left.join(', ')} still run in its folder`)
      return { member, killedAt }
    },
    async startHaproxy() {
      const [port] = await freePorts(1)
      const dir = path.join(root, 'haproxy')
      fs.mkdirSync(dir, { recursive: true })
      const config = path.join(dir, 'haproxy.cfg')
      fs.writeFileSync(config, haproxyConfig(port!, members))
      run('haproxy', dir, [HAPROXY, '-db', '-f', config])
      await until('HAProxy listening', 10_000, async () => ((await accepts(port!)) ? true : undefined))
      return { host: '127.0.0.1', port: port! }
    },
    async switchover() {
      const from = await leader()
      if (!from) throw new Error('patroni: no leader to switch over from')
      const requestedAt = Date.now()
      const response = await fetch(`http://127.0.0.1:${from.apiPort}/switchover`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ leader: from.name }),
        signal: AbortSignal.timeout(60_000),
      })
      if (!response.ok) throw new Error(`patroni: switchover refused (${response.status}): ${await response.text()}`)
      return { from, requestedAt }
    },
    restart(member) {
      if (running.has(member.name)) throw new Error(`patroni: ${member.name} is still running`)
      startMember(member)
    },
  }
}
