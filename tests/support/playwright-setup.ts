import { suiteDatabases } from './suite-database'

// The browser suite's global setup: with DATABASE_URL set for the run, every store the specs
// start gets a database of its own on that server, dropped when the run ends.
export default function setup() {
  return suiteDatabases()
}
