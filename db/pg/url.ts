import net from 'node:net'
import type pg from 'pg'

/** One server of a PostgreSQL cluster, as named in `DATABASE_URL`. */
export interface PgHost {
  host: string
  port: number
}

/** The libpq values of `target_session_attrs` a store that writes can live with. */
type TargetSessionAttrs = 'any' | 'read-write' | 'primary'

/** The URL's query parameters, as node-postgres's own options. */
type ClientOptions = Pick<pg.ClientConfig, 'application_name' | 'connectionTimeoutMillis' | 'ssl' | 'options' | 'keepAlive' | 'keepAliveInitialDelayMillis'>

export interface DatabaseUrl {
  hosts: readonly PgHost[]
  user?: string
  /** Percent-decoded; never part of an error message. */
  password?: string
  database?: string
  targetSessionAttrs: TargetSessionAttrs
  options: ClientOptions
}

/** `DATABASE_URL` cannot be used as written; the message says why and never repeats the password. */
export class InvalidDatabaseUrl extends Error {
  constructor(reason: string) {
    super(`DATABASE_URL ${reason}`)
    this.name = 'InvalidDatabaseUrl'
  }
}

const DEFAULT_PORT = 5432

const ENCODE_CREDENTIALS = "has a raw '@', '?' or '#' where none can be: percent-encode them in the user name and password (%40, %3F, %23)"

// The query parameters accepted, each turned into node-postgres's own option. libpq refuses a
// parameter it does not know, and so does this: a misspelt option silently ignored is a
// setting the owner believes is in force. `statement_timeout` is deliberately absent: under
// synchronous replication a timeout that fires while COMMIT waits for the standby returns
// success with only a warning, and the commit exists on the primary alone.
const PARAMETERS: Record<string, (value: string, into: ClientOptions) => void> = {
  target_session_attrs: () => {},
  application_name: (value, into) => {
    into.application_name = value
  },
  connect_timeout: (value, into) => {
    into.connectionTimeoutMillis = seconds('connect_timeout', value) * 1000
  },
  options: (value, into) => {
    into.options = value
  },
  keepalives: (value, into) => {
    if (value !== '0' && value !== '1') throw new InvalidDatabaseUrl(`has keepalives=${quote(value)}: use 0 or 1`)
    into.keepAlive = value === '1'
  },
  keepalives_idle: (value, into) => {
    into.keepAliveInitialDelayMillis = seconds('keepalives_idle', value) * 1000
  },
  sslmode: (value, into) => {
    // node-postgres cannot try TLS and fall back to plain text, so libpq's `allow` and
    // `prefer` have no honest equivalent; every mode that asks for TLS gets a verified one.
    if (value === 'disable') into.ssl = false
    else if (value === 'require' || value === 'verify-ca' || value === 'verify-full') into.ssl = true
    else throw new InvalidDatabaseUrl(`has sslmode=${quote(value)}: use disable, require, verify-ca or verify-full`)
  },
}

/**
 * Reads a connection URL in libpq's form, including its multi-host form
 * `postgres://user:pass@h1:5432,h2:5432,h3:5432/db?target_session_attrs=read-write`, which
 * node-postgres's own parser refuses ("Invalid URL"). A host without a port gets 5432, as in
 * libpq. A URL naming several hosts must say `target_session_attrs=read-write` (or
 * `primary`): without it libpq tools such as psql and pg_dump would take whichever host
 * answers first, a standby included, and the same URL would mean two things.
 */
export function parseDatabaseUrl(url: string): DatabaseUrl {
  const scheme = /^(postgres|postgresql):\/\//i.exec(url)
  if (!scheme) throw new InvalidDatabaseUrl('must start with postgres:// or postgresql://')
  const rest = url.slice(scheme[0].length)
  if (rest.includes('#')) throw new InvalidDatabaseUrl(ENCODE_CREDENTIALS)

  // The credentials end at the last '@' before the query, so a password with a raw '/' still
  // parses; a raw '@' past that point means the credentials were not percent-encoded, and
  // every message from there on could repeat a piece of the password, so the URL is refused.
  const queryStart = rest.indexOf('?')
  const head = queryStart === -1 ? rest : rest.slice(0, queryStart)
  const query = queryStart === -1 ? '' : rest.slice(queryStart + 1)
  if (query.includes('@')) throw new InvalidDatabaseUrl(ENCODE_CREDENTIALS)
  const at = head.lastIndexOf('@')
  const userInfo = at === -1 ? undefined : head.slice(0, at)
  const location = at === -1 ? head : head.slice(at + 1)
  const pathStart = location.indexOf('/')
  const hostList = pathStart === -1 ? location : location.slice(0, pathStart)
  const path = pathStart === -1 ? '' : location.slice(pathStart)

  const credentials: Pick<DatabaseUrl, 'user' | 'password' | 'database'> = {}
  if (userInfo !== undefined) {
    const colon = userInfo.indexOf(':')
    const user = decode('user name', colon === -1 ? userInfo : userInfo.slice(0, colon))
    if (user) credentials.user = user
    // The password is decoded but never quoted back, whatever is wrong with it.
    if (colon !== -1) credentials.password = decode('password', userInfo.slice(colon + 1))
  }

  const hosts = parseHosts(hostList)

  if (path !== '' && path !== '/') {
    const database = decode('database name', path.slice(1))
    if (database.includes('/')) throw new InvalidDatabaseUrl('has a path with more than one part: it names one database')
    credentials.database = database
  }

  const params = parseQuery(query)
  const options: ClientOptions = {}
  for (const [name, value] of params) {
    const apply = PARAMETERS[name]
    if (!apply) throw new InvalidDatabaseUrl(`has an unknown parameter ${quote(name)} (known: ${Object.keys(PARAMETERS).join(', ')})`)
    apply(value, options)
  }

  const targetSessionAttrs = parseTargetSessionAttrs(params.get('target_session_attrs'))
  if (hosts.length > 1 && targetSessionAttrs === 'any') {
    throw new InvalidDatabaseUrl(
      `names ${hosts.length} hosts but not target_session_attrs=read-write: without it libpq tools connect to whichever answers first, a standby included`,
    )
  }
  return { hosts, ...credentials, targetSessionAttrs, options }
}

function parseHosts(list: string): PgHost[] {
  if (list === '') throw new InvalidDatabaseUrl('names no host')
  return list.split(',').map((entry, index) => {
    if (entry === '') throw new InvalidDatabaseUrl(`has an empty host in its list (entry ${index + 1})`)
    let host: string
    let port: string | undefined
    if (entry.startsWith('[')) {
      const close = entry.indexOf(']')
      if (close === -1) throw new InvalidDatabaseUrl(`has an unclosed IPv6 address ${quote(entry)}`)
      host = entry.slice(1, close)
      if (!net.isIPv6(host)) throw new InvalidDatabaseUrl(`has ${quote(host)} in brackets, which is not an IPv6 address`)
      const after = entry.slice(close + 1)
      if (after !== '' && !after.startsWith(':')) throw new InvalidDatabaseUrl(`has text after the IPv6 address ${quote(entry)}`)
      port = after === '' ? undefined : after.slice(1)
    } else {
      const [name = '', ...ports] = entry.split(':')
      if (ports.length > 1) throw new InvalidDatabaseUrl(`has ${quote(entry)}: an IPv6 address goes in brackets, [::1]:5432`)
      host = decode('host name', name)
      port = ports[0]
      if (!/^[A-Za-z0-9.\-_]+$/.test(host)) throw new InvalidDatabaseUrl(`has an invalid host name ${quote(host)}`)
    }
    return { host, port: port === undefined ? DEFAULT_PORT : parsePort(entry, port) }
  })
}

function parsePort(entry: string, port: string): number {
  const value = /^\d{1,5}$/.test(port) ? Number(port) : NaN
  if (!(value >= 1 && value <= 65535)) throw new InvalidDatabaseUrl(`has a bad port in ${quote(entry)}: a number from 1 to 65535`)
  return value
}

function parseQuery(query: string): Map<string, string> {
  const params = new Map<string, string>()
  if (query === '') return params
  for (const pair of query.split('&')) {
    if (pair === '') continue
    const eq = pair.indexOf('=')
    if (eq === -1) throw new InvalidDatabaseUrl(`has a parameter without a value: ${quote(pair)}`)
    const name = decode('parameter name', pair.slice(0, eq))
    if (params.has(name)) throw new InvalidDatabaseUrl(`sets ${quote(name)} twice`)
    params.set(name, decode(`value of ${name}`, pair.slice(eq + 1).replaceAll('+', ' ')))
  }
  return params
}

function parseTargetSessionAttrs(value: string | undefined): TargetSessionAttrs {
  if (value === undefined || value === 'any') return 'any'
  if (value === 'read-write' || value === 'primary') return value
  if (value === 'read-only' || value === 'standby' || value === 'prefer-standby') {
    throw new InvalidDatabaseUrl(`has target_session_attrs=${value}: the store writes, so it needs read-write (or primary)`)
  }
  throw new InvalidDatabaseUrl(`has an unknown target_session_attrs ${quote(value)} (use read-write, primary or any)`)
}

function seconds(name: string, value: string): number {
  if (!/^\d{1,6}$/.test(value)) throw new InvalidDatabaseUrl(`has ${name}=${quote(value)}: a whole number of seconds`)
  return Number(value)
}

function decode(what: string, value: string): string {
  try {
    return decodeURIComponent(value)
  } catch {
    throw new InvalidDatabaseUrl(`has a malformed percent-encoding in its ${what}`)
  }
}

// Quoted and cut short, so a hostile value cannot flood a log line or forge a new one.
function quote(value: string): string {
  const shown = value.length > 60 ? `${value.slice(0, 60)}…` : value
  return JSON.stringify(shown)
}

/** The node-postgres configuration for one of the URL's hosts. */
export function clientConfig(url: DatabaseUrl, host: PgHost): pg.ClientConfig {
  const { user, password, database, options } = url
  return { user, password, database, ...options, host: host.host, port: host.port }
}
