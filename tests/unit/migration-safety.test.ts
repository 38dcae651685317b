import fs from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { migrationsFolder } from '@/db/migrate'
import { check, checkFolder, describe as describeProblems } from '@/db/migration-safety'
import { pgMigrationsFolder } from '@/db/pg/migrate'

// The release still running during a deploy must survive every migration in db/migrations
// and db/pg/migrations (docs/decisions/010-migrations-previous-release-survives.md,
// 039-postgresql-engine.md).

const fixtures = path.resolve(__dirname, '..', 'fixtures', 'migrations')
const fixture = (tag: string) => fs.readFileSync(path.join(fixtures, `${tag}.sql`), 'utf8')
const earlier = ['0000_create_store', '0107_expand_ok']

describe.each([
  ['db/migrations', migrationsFolder()],
  ['db/pg/migrations', pgMigrationsFolder()],
])('%s', (_name, folder) => {
  it('every migration leaves the previous release working (or is a marked contract step)', () => {
    const problems = checkFolder(folder)
    expect(problems, describeProblems(problems)).toEqual([])
  })
})

describe('the migration checker', () => {
  it.each([
    ['0101_drop_table', 'drops a table', 'DROP TABLE `gift_cards`'],
    ['0102_drop_column', 'drops a column', 'ALTER TABLE `orders` DROP COLUMN `customer_name`'],
    ['0103_rename_table', 'renames a table', 'ALTER TABLE `orders` RENAME TO `purchases`'],
    ['0104_rename_column', 'renames a column', 'ALTER TABLE `orders` RENAME COLUMN `email` TO `customer_email`'],
    ['0105_not_null_without_default', 'adds a NOT NULL column without a default', 'ALTER TABLE `orders` ADD `channel` text NOT NULL'],
    // PostgreSQL, as drizzle-kit writes it, and what only PostgreSQL can do in place
    ['pg/0201_drop_table', 'drops a table', 'DROP TABLE "gift_cards"'],
    ['pg/0202_drop_column', 'drops a column', 'ALTER TABLE "orders" DROP COLUMN "customer_name"'],
    ['pg/0203_rename_table', 'renames a table', 'ALTER TABLE "orders" RENAME TO "purchases"'],
    ['pg/0204_rename_column', 'renames a column', 'ALTER TABLE "orders" RENAME COLUMN "email" TO "customer_email"'],
    ['pg/0205_not_null_without_default', 'adds a NOT NULL column without a default', 'ALTER TABLE "orders" ADD COLUMN "channel" text NOT NULL'],
    ['pg/0206_change_type', "changes a column's type", 'ALTER TABLE "orders" ALTER COLUMN "total_cents" SET DATA TYPE'],
    ['pg/0207_set_not_null', 'makes a column NOT NULL', 'ALTER TABLE "orders" ALTER COLUMN "email" SET NOT NULL'],
    ['pg/0208_drop_default', "drops a column's default", 'ALTER TABLE "orders" ALTER COLUMN "currency" DROP DEFAULT'],
    ['pg/0209_drop_constraint', 'drops a constraint', 'ALTER TABLE "orders" DROP CONSTRAINT "orders_public_token_unique"'],
  ])('refuses %s: %s', (tag, rule, excerpt) => {
    expect(check(tag, fixture(tag), earlier)).toEqual([{ tag, rule, excerpt }])
  })

  it('refuses a table rewrite, as drizzle-kit generates it to change a column', () => {
    const rules = check('0106_rewrite_table', fixture('0106_rewrite_table'), earlier).map((p) => p.rule)
    expect(rules).toContain('rewrites a table')
    expect(rules).toContain('drops a table')
    expect(rules).toContain('renames a table')
  })

  it('accepts an expand step: nullable or defaulted columns, tables, indexes, triggers; ignores comments and strings', () => {
    expect(check('0107_expand_ok', fixture('0107_expand_ok'), ['0000_create_store'])).toEqual([])
  })

  it('accepts a contract step that names an earlier expand step', () => {
    expect(check('0108_contract_ok', fixture('0108_contract_ok'), earlier)).toEqual([])
  })

  it('refuses a contract step whose expand step is not an earlier migration', () => {
    expect(check('0109_contract_of_nothing', fixture('0109_contract_of_nothing'), earlier)).toEqual([
      { tag: '0109_contract_of_nothing', rule: 'drops a column', excerpt: 'ALTER TABLE `orders` DROP COLUMN `customer_name`' },
      { tag: '0109_contract_of_nothing', rule: 'is marked as the contract step of 0199_not_yet_shipped, which is not an earlier migration', excerpt: '-- contract: expands in 0199_not_yet_shipped' },
    ])
    // the same marker in the migration that is itself the expand step does not count either
    expect(check('0108_contract_ok', fixture('0108_contract_ok'), ['0000_create_store'])).toHaveLength(2)
  })

  it('on PostgreSQL: accepts an expand step (columns with a default or nullable, a table with its constraints, indexes, a trigger) and its marked contract step', () => {
    expect(check('pg/0210_expand_ok', fixture('pg/0210_expand_ok'), ['0000_create_store'])).toEqual([])
    expect(check('pg/0211_contract_ok', fixture('pg/0211_contract_ok'), ['0000_create_store', '0210_expand_ok'])).toEqual([])
    expect(check('pg/0211_contract_ok', fixture('pg/0211_contract_ok'), ['0000_create_store']).map((p) => p.rule)).toEqual([
      'drops a column',
      'is marked as the contract step of 0210_expand_ok, which is not an earlier migration',
    ])
  })
})
