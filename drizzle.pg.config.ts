import { defineConfig } from 'drizzle-kit'

// The PostgreSQL schema and its migrations (docs/decisions/039-postgresql-engine.md);
// drizzle.config.ts is SQLite's. `npm run db:generate:pg`.
export default defineConfig({
  dialect: 'postgresql',
  schema: './db/pg/schema.ts',
  out: './db/pg/migrations',
})
