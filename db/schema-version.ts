import { schemaVersion as pgSchemaVersion } from './pg/migrate'
import { schemaVersion, type SchemaVersion } from './migrate'
import { native, type Steps } from './tx'

/** The migrations applied to the store, against this release's list, on the engine in use (a step of a read or a transaction). */
export function* readingSchemaVersion(): Steps<SchemaVersion> {
  return yield* native({
    sqlite: (client) => schemaVersion(client),
    postgres: (client) => pgSchemaVersion(client),
  })
}
