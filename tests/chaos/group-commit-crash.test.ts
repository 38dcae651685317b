import { spawn } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import Database from 'better-sqlite3'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { freshDb, type TestDb } from '../support/db'

// A process dies while a group commit's transaction is open (db.writeGrouped, decision 046):
// what it had acknowledged is all on disk, and nothing of the group it was writing is, so
// every write it lost was one it never answered (Stripe redelivers those).

const root = path.resolve(__dirname, '..', '..')
let t: TestDb
beforeEach(() => {
  t = freshDb()
})
afterEach(() => t.close())

describe('chaos: SIGKILL inside a group commit', () => {
  it('keeps every acknowledged write and loses only the open group, none of it acknowledged', async () => {
    const acksFile = path.join(t.dir, 'acks.txt')
    fs.writeFileSync(acksFile, '')
    const crashAt = 5
    const child = spawn(process.execPath, [path.join(root, 'node_modules', 'tsx', 'dist', 'cli.mjs'), '--conditions=react-server', path.join(root, 'tests', 'support', 'group-commit-writer.ts'), t.file, acksFile, String(crashAt)], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let output = ''
    child.stdout.on('data', (d) => (output += d))
    child.stderr.on('data', (d) => (output += d))
    // tsx runs the script in a child of its own and exits with the signal's status (128 + 9).
    const exit = await new Promise<string>((resolve) => child.once('exit', (code, sig) => resolve(sig ?? String(code))))
    expect(['SIGKILL', '137'], output).toContain(exit)

    const acked = fs.readFileSync(acksFile, 'utf8').split('\n').filter(Boolean).sort()
    const reader = new Database(t.file, { readonly: true })
    const onDisk = (reader.prepare("SELECT id FROM health_checks WHERE id LIKE 'g-%' ORDER BY id").pluck().all() as string[]).sort()
    reader.close()
    const groupsBefore = Array.from({ length: crashAt }, (_, g) => [0, 1, 2, 3].map((i) => `g-${g}-${i}`)).flat().sort()
    expect(acked).toEqual(groupsBefore)
    expect(onDisk).toEqual(groupsBefore)
    // The open group's first three bodies had run; they went with the transaction.
    expect(onDisk.filter((id) => id.startsWith(`g-${crashAt}-`))).toEqual([])
  })
})
