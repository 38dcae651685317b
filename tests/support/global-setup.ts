import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import Database from 'better-sqlite3'
import { migrate } from '../../db/migrate'
import { suiteDatabases } from './suite-database'

// Migrate one template database per run; every test copies it, so no two tests share a file.
export default function setup({ provide }: { provide: (key: 'templateDb', value: string) => void }) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'till-template-'))
  const file = path.join(dir, 'template.sqlite3')
  const sqlite = new Database(file)
  sqlite.pragma('journal_mode = WAL')
  migrate(sqlite)
  // Fold the WAL back so a plain file copy is the whole database.
  sqlite.pragma('wal_checkpoint(TRUNCATE)')
  sqlite.pragma('journal_mode = DELETE')
  sqlite.close()
  provide('templateDb', file)
  const dropDatabases = suiteDatabases()
  return async () => {
    fs.rmSync(dir, { recursive: true, force: true })
    await dropDatabases?.()
  }
}

declare module 'vitest' {
  export interface ProvidedContext {
    templateDb: string
  }
}
