import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { runAs, TEMPLATE_ENV } from './postgres'

// The integration tests' global setup: a folder for the run's template cluster, made by the
// first startPostgres() that needs one (none is made when no test starts a PostgreSQL) and
// copied by the rest; removed when the run ends. Workers inherit the variable.
export default function setup() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'till-pg-template-'))
  const owner = runAs()
  if (owner) fs.chownSync(dir, owner.uid, owner.gid)
  process.env[TEMPLATE_ENV] = dir
  return () => fs.rmSync(dir, { recursive: true, force: true })
}
