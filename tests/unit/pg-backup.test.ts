import { spawn, spawnSync } from 'node:child_process'
import crypto from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { archiveCommand, archiveSettings, baseBackupArgs, confLines, dumpArgs, recoverySettings, restoreArgs, restoreCommand } from '@/db/pg/backup'

// The archive and restore commands of db/pg/backup.ts run as PostgreSQL runs them: `%p`, `%f`
// and `%%` replaced, then /bin/sh in the data folder. The whole drill against a real server is
// tests/integration/pg-backup.test.ts; this is what the command must do with the files.

const dirs: string[] = []
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true })
})

function folders(archiveName = 'archive') {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'till-pg-archive-'))
  dirs.push(root)
  const data = path.join(root, 'data')
  const archive = path.join(root, archiveName)
  fs.mkdirSync(path.join(data, 'pg_wal'), { recursive: true })
  fs.mkdirSync(archive)
  return { data, archive }
}

/** Runs `command` for one segment as the server would: placeholders replaced, sh in the data folder; returns its exit status. */
function runAsServer(command: string, data: string, segment: string, into = `pg_wal/${segment}`): number {
  const expanded = command.replace(/%[pf%]/g, (m) => (m === '%p' ? into : m === '%f' ? segment : '%'))
  return spawnSync('/bin/sh', ['-c', expanded], { cwd: data }).status ?? -1
}

function runAsServerAsync(command: string, data: string, segment: string): Promise<number> {
  const expanded = command.replace(/%[pf%]/g, (m) => (m === '%p' ? `pg_wal/${segment}` : m === '%f' ? segment : '%'))
  return new Promise((resolve) => spawn('/bin/sh', ['-c', expanded], { cwd: data, stdio: 'ignore' }).once('exit', (code) => resolve(code ?? -1)))
}

const SEGMENT = '000000010000000000000003'

describe('archive_command', () => {
  it('copies a finished segment into the archive under its own name, leaving no temporary file', () => {
    const { data, archive } = folders()
    fs.writeFileSync(path.join(data, 'pg_wal', SEGMENT), 'wal one')
    expect(runAsServer(archiveCommand(archive), data, SEGMENT)).toBe(0)
    expect(fs.readFileSync(path.join(archive, SEGMENT), 'utf8')).toBe('wal one')
    expect(fs.readdirSync(archive)).toEqual([SEGMENT])
  })

  it('refuses to overwrite a segment of that name with other contents, and leaves the archived one as it was', () => {
    const { data, archive } = folders()
    fs.writeFileSync(path.join(archive, SEGMENT), 'from another server')
    fs.writeFileSync(path.join(data, 'pg_wal', SEGMENT), 'wal one')
    expect(runAsServer(archiveCommand(archive), data, SEGMENT)).not.toBe(0)
    expect(fs.readFileSync(path.join(archive, SEGMENT), 'utf8')).toBe('from another server')
    expect(fs.readdirSync(archive)).toEqual([SEGMENT])
  })

  it('succeeds for a segment archived before with the same contents (the server retries one after a crash)', () => {
    const { data, archive } = folders()
    fs.writeFileSync(path.join(data, 'pg_wal', SEGMENT), 'wal one')
    expect(runAsServer(archiveCommand(archive), data, SEGMENT)).toBe(0)
    expect(runAsServer(archiveCommand(archive), data, SEGMENT)).toBe(0)
    expect(fs.readdirSync(archive)).toEqual([SEGMENT])
  })

  it('lets several servers archive the same segment at once (archive_mode = always): all succeed, one whole file, nothing left over', async () => {
    const { data, archive } = folders()
    const segment = crypto.randomBytes(64 * 1024)
    for (let round = 0; round < 5; round++) {
      const name = `0000000100000000000000${String(10 + round)}`
      fs.writeFileSync(path.join(data, 'pg_wal', name), segment)
      const statuses = await Promise.all(Array.from({ length: 4 }, () => runAsServerAsync(archiveCommand(archive), data, name)))
      expect(statuses).toEqual([0, 0, 0, 0])
      expect(fs.readFileSync(path.join(archive, name)).equals(segment)).toBe(true)
    }
    expect(fs.readdirSync(archive)).toHaveLength(5)
  }, 30_000)

  it('of two servers archiving different segments under one name at once, one wins and the other fails', async () => {
    const { data, archive } = folders()
    const other = path.join(data, 'other')
    fs.mkdirSync(path.join(other, 'pg_wal'), { recursive: true })
    for (let round = 0; round < 5; round++) {
      const name = `0000000100000000000000${String(10 + round)}`
      fs.writeFileSync(path.join(data, 'pg_wal', name), `ours ${round}`.repeat(10_000))
      fs.writeFileSync(path.join(other, 'pg_wal', name), `theirs ${round}`.repeat(10_000))
      const [ours, theirs] = await Promise.all([runAsServerAsync(archiveCommand(archive), data, name), runAsServerAsync(archiveCommand(archive), other, name)])
      expect([ours, theirs].filter((status) => status === 0)).toHaveLength(1)
      const archived = fs.readFileSync(path.join(archive, name), 'utf8')
      expect(archived).toBe(ours === 0 ? `ours ${round}`.repeat(10_000) : `theirs ${round}`.repeat(10_000))
    }
    expect(fs.readdirSync(archive)).toHaveLength(5)
  }, 30_000)

  it("fails, and archives nothing, when the archive folder is missing (the server keeps the segment and tries again)", () => {
    const { data, archive } = folders()
    fs.rmSync(archive, { recursive: true })
    fs.writeFileSync(path.join(data, 'pg_wal', SEGMENT), 'wal one')
    expect(runAsServer(archiveCommand(archive), data, SEGMENT)).not.toBe(0)
    expect(fs.existsSync(archive)).toBe(false)
  })

  it("works with a folder whose name has a space, a quote and a percent sign, and refuses a relative one", () => {
    const { data, archive } = folders("wal archive it's 100%")
    fs.writeFileSync(path.join(data, 'pg_wal', SEGMENT), 'wal one')
    expect(runAsServer(archiveCommand(archive), data, SEGMENT)).toBe(0)
    expect(fs.readFileSync(path.join(archive, SEGMENT), 'utf8')).toBe('wal one')
    expect(() => archiveCommand('archive')).toThrow(/must be an absolute path/)
  })
})

describe('restore_command', () => {
  it('hands recovery the segment it asks for, and fails for one the archive lacks', () => {
    const { data, archive } = folders()
    fs.writeFileSync(path.join(archive, SEGMENT), 'wal one')
    expect(runAsServer(restoreCommand(archive), data, SEGMENT, 'pg_wal/RECOVERYXLOG')).toBe(0)
    expect(fs.readFileSync(path.join(data, 'pg_wal', 'RECOVERYXLOG'), 'utf8')).toBe('wal one')
    expect(runAsServer(restoreCommand(archive), data, '000000010000000000000004', 'pg_wal/RECOVERYXLOG')).not.toBe(0)
  })
})

describe('recovery settings', () => {
  it('name each kind of target, stop before an LSN, and promote at the target', () => {
    const archive = '/var/lib/till/wal-archive'
    expect(recoverySettings(archive, { name: 'before-import' })).toEqual({ restore_command: restoreCommand(archive), recovery_target_action: 'promote', recovery_target_name: 'before-import' })
    expect(recoverySettings(archive, { lsn: '0/3000060' })).toMatchObject({ recovery_target_lsn: '0/3000060', recovery_target_inclusive: 'off' })
    expect(recoverySettings(archive, { time: '2026-12-06 10:00:00+00' })).toMatchObject({ recovery_target_time: '2026-12-06 10:00:00+00' })
    expect(Object.keys(recoverySettings(archive, 'end')).sort()).toEqual(['recovery_target_action', 'restore_command'])
  })

  it('are written as postgresql.conf lines with their quotes doubled', () => {
    expect(confLines({ restore_command: "cp '/a b'/%f %p", recovery_target_name: 'x' })).toBe("restore_command = 'cp ''/a b''/%f %p'\nrecovery_target_name = 'x'\n")
  })
})

describe('docs/scale-out.md', () => {
  it('prints the settings and commands db/pg/backup.ts makes, as they are', () => {
    const docs = fs.readFileSync(path.join(import.meta.dirname, '..', '..', 'docs', 'scale-out.md'), 'utf8')
    const archive = '/srv/till/wal-archive'
    expect(docs).toContain(confLines(archiveSettings(archive)))
    // the recovery lines sit in a numbered step, indented
    for (const line of confLines({ restore_command: restoreCommand(archive), recovery_target_action: 'promote' }).trim().split('\n')) expect(docs).toContain(`   ${line}\n`)
    // Patroni's YAML, single-quoted
    expect(docs).toContain(`archive_command: '${archiveCommand(archive).replaceAll("'", "''")}'`)
    const flags = (args: string[]) => args.filter((a) => a.startsWith('--') && a !== '--dbname' && a !== '--file' && a !== '--pgdata')
    for (const [program, args] of [
      ['pg_basebackup', baseBackupArgs('url', 'dir')],
      ['pg_dump', dumpArgs('url', 'file')],
      ['pg_restore', restoreArgs('url', 'file')],
    ] as const) {
      const shown = docs.slice(docs.indexOf(`${program} --dbname`)).split('\n\n')[0]!
      for (const flag of flags(args)) expect(shown, `${program} ${flag}`).toContain(flag)
    }
  })
})
