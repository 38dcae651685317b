import { describe, expect, it } from 'vitest'
import { clientConfig, InvalidDatabaseUrl, parseDatabaseUrl } from '@/db/pg/url'

const SECRET = 's3cr3t-Pa55'

/** The error thrown for `url`, checked to name DATABASE_URL and never to repeat the password. */
function refusal(url: string): string {
  let thrown: unknown
  try {
    parseDatabaseUrl(url)
  } catch (err) {
    thrown = err
  }
  expect(thrown).toBeInstanceOf(InvalidDatabaseUrl)
  const message = (thrown as Error).message
  expect(message).toMatch(/^DATABASE_URL /)
  expect(message).not.toContain(SECRET)
  expect(message).not.toContain('Pa55')
  return message
}

describe('parseDatabaseUrl', () => {
  it('reads libpq’s multi-host form into hosts, credentials, database and options', () => {
    const url = parseDatabaseUrl(
      `postgres://till:${SECRET}@db1.internal:5433,10.0.0.2:5434,[::1]:5435/shop?target_session_attrs=read-write&application_name=till&connect_timeout=3`,
    )
    expect(url.hosts).toEqual([
      { host: 'db1.internal', port: 5433 },
      { host: '10.0.0.2', port: 5434 },
      { host: '::1', port: 5435 },
    ])
    expect(url.targetSessionAttrs).toBe('read-write')
    expect(url).toMatchObject({ user: 'till', password: SECRET, database: 'shop' })
    expect(url.options).toEqual({ application_name: 'till', connectionTimeoutMillis: 3000 })
    expect(clientConfig(url, url.hosts[2]!)).toEqual({
      host: '::1',
      port: 5435,
      user: 'till',
      password: SECRET,
      database: 'shop',
      application_name: 'till',
      connectionTimeoutMillis: 3000,
    })
  })

  it('reads a single host as before, with libpq’s default port when none is given', () => {
    expect(parseDatabaseUrl('postgresql://till@localhost/shop')).toEqual({
      hosts: [{ host: 'localhost', port: 5432 }],
      user: 'till',
      database: 'shop',
      targetSessionAttrs: 'any',
      options: {},
    })
    expect(parseDatabaseUrl('postgres://127.0.0.1:6000').hosts).toEqual([{ host: '127.0.0.1', port: 6000 }])
    expect(parseDatabaseUrl('postgres://[::1]/shop').hosts).toEqual([{ host: '::1', port: 5432 }])
  })

  it('gives a host in a list without a port the default port', () => {
    const url = parseDatabaseUrl('postgres://till@h1,h2:5433/shop?target_session_attrs=primary')
    expect(url.hosts).toEqual([
      { host: 'h1', port: 5432 },
      { host: 'h2', port: 5433 },
    ])
    expect(url.targetSessionAttrs).toBe('primary')
  })

  it('percent-decodes the user, password and database', () => {
    const url = parseDatabaseUrl('postgres://till%40shop:p%40ss%2Fw%3Ard%25%3F@h1/my%20shop')
    expect(url).toMatchObject({ user: 'till@shop', password: 'p@ss/w:rd%?', database: 'my shop' })
  })

  it('reads a password with a raw slash or colon, as libpq users write them', () => {
    expect(parseDatabaseUrl('postgres://till:a/b:c@h1:5432/shop')).toMatchObject({ password: 'a/b:c', database: 'shop' })
  })

  it('turns the options node-postgres understands into its own settings', () => {
    const url = parseDatabaseUrl('postgres://h1/shop?sslmode=require&keepalives=1&keepalives_idle=30&options=-c%20search_path%3Dtill')
    expect(url.options).toEqual({ ssl: true, keepAlive: true, keepAliveInitialDelayMillis: 30_000, options: '-c search_path=till' })
    expect(parseDatabaseUrl('postgres://h1/shop?sslmode=disable').options.ssl).toBe(false)
  })

  it('refuses input that is not a PostgreSQL URL', () => {
    expect(refusal('mysql://till@h1/shop')).toMatch(/postgres:\/\//)
    expect(refusal('')).toMatch(/postgres:\/\//)
    expect(refusal(`h1:5432/shop`)).toMatch(/postgres:\/\//)
  })

  it('refuses an empty host list or an empty host in it', () => {
    expect(refusal(`postgres://till:${SECRET}@/shop`)).toMatch(/names no host/)
    expect(refusal(`postgres://till:${SECRET}@h1,,h3/shop?target_session_attrs=read-write`)).toMatch(/empty host.*entry 2/)
    expect(refusal(`postgres://till:${SECRET}@h1,/shop?target_session_attrs=read-write`)).toMatch(/empty host/)
  })

  it('refuses a bad port', () => {
    for (const port of ['0', '65536', 'abc', '-1', '5432x', '', '99999999']) {
      expect(refusal(`postgres://till:${SECRET}@h1:${port}/shop`)).toMatch(/bad port/)
    }
  })

  it('refuses an IPv6 address without brackets, or brackets around something else', () => {
    expect(refusal(`postgres://till:${SECRET}@::1:5432/shop`)).toMatch(/IPv6 address goes in brackets/)
    expect(refusal(`postgres://till:${SECRET}@[db1]:5432/shop`)).toMatch(/not an IPv6 address/)
    expect(refusal(`postgres://till:${SECRET}@[::1:5432/shop`)).toMatch(/unclosed/)
    expect(refusal(`postgres://till:${SECRET}@[::1]x/shop`)).toMatch(/after the IPv6/)
  })

  it('refuses a host name with characters no host name has', () => {
    expect(refusal(`postgres://till:${SECRET}@h%201/shop`)).toMatch(/invalid host name/)
    expect(refusal(`postgres://till:${SECRET}@h<1>/shop`)).toMatch(/invalid host name/)
  })

  it('refuses an unknown target_session_attrs, and those naming a standby', () => {
    expect(refusal(`postgres://till:${SECRET}@h1,h2/shop?target_session_attrs=leader`)).toMatch(/unknown target_session_attrs "leader"/)
    expect(refusal(`postgres://till:${SECRET}@h1/shop?target_session_attrs=standby`)).toMatch(/the store writes/)
    expect(refusal(`postgres://till:${SECRET}@h1/shop?target_session_attrs=prefer-standby`)).toMatch(/the store writes/)
  })

  it('refuses several hosts without target_session_attrs=read-write, since libpq tools would take any of them', () => {
    expect(refusal(`postgres://till:${SECRET}@h1,h2/shop`)).toMatch(/names 2 hosts but not target_session_attrs=read-write/)
    expect(refusal(`postgres://till:${SECRET}@h1,h2/shop?target_session_attrs=any`)).toMatch(/names 2 hosts/)
  })

  it('refuses unknown, repeated or empty parameters, naming them', () => {
    expect(refusal(`postgres://till:${SECRET}@h1/shop?statement_timeout=100`)).toMatch(/unknown parameter "statement_timeout"/)
    expect(refusal(`postgres://till:${SECRET}@h1/shop?connect_timeout=1&connect_timeout=2`)).toMatch(/sets "connect_timeout" twice/)
    expect(refusal(`postgres://till:${SECRET}@h1/shop?sslmode`)).toMatch(/without a value/)
    expect(refusal(`postgres://till:${SECRET}@h1/shop?connect_timeout=soon`)).toMatch(/whole number of seconds/)
    expect(refusal(`postgres://till:${SECRET}@h1/shop?sslmode=prefer`)).toMatch(/sslmode="prefer"/)
    expect(refusal(`postgres://till:${SECRET}@h1/shop?keepalives=yes`)).toMatch(/keepalives/)
  })

  it('refuses a malformed percent-encoding without repeating the password', () => {
    expect(refusal(`postgres://till:${SECRET}%zz@h1/shop`)).toMatch(/malformed percent-encoding in its password/)
    expect(refusal(`postgres://till%E0:${SECRET}@h1/shop`)).toMatch(/user name/)
  })

  it('refuses credentials whose @, ? or # were not encoded, without repeating a piece of the password', () => {
    expect(refusal(`postgres://till:s3cr3t?Pa55@h1/shop`)).toMatch(/percent-encode/)
    expect(refusal(`postgres://till:s3cr3t#Pa55@h1/shop`)).toMatch(/percent-encode/)
    expect(refusal(`postgres://till:s3cr3t@h1/shop?application_name=Pa55@x`)).toMatch(/percent-encode/)
  })

  it('refuses a path naming more than one database', () => {
    expect(refusal(`postgres://till:${SECRET}@h1/shop/extra`)).toMatch(/more than one part/)
  })
})
