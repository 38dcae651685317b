import fs from 'node:fs'
import path from 'node:path'
import { migrationsFolder } from './migrate'

// For a few seconds of every deploy the previous release runs on the new schema, and it
// keeps running there if the deploy is aborted. So a migration may only expand the schema:
// add tables, add nullable columns or columns with a default, add indexes and triggers.
// Dropping or renaming a column or table, adding a NOT NULL column without a default, or
// rebuilding a table (SQLite's only way to change a column) breaks the queries of the
// release still running; so, on PostgreSQL, does changing a column's type, making it NOT NULL,
// dropping its default or dropping a constraint (a unique one is some ON CONFLICT's target).
// One checker reads both engines' migrations (db/migrations and db/pg/migrations); a rule for
// a statement only one engine has never matches the other's SQL. Such a migration is accepted
// only as the contract step of an expand/contract pair, marked with a comment that names the
// earlier migration that expanded, e.g. `-- contract: expands in 0007_add_orders_email_v2`.
// The release that shipped that expand step must already have stopped reading what the
// contract removes.
// (docs/decisions/010-migrations-previous-release-survives.md)

export type Problem = { tag: string; rule: string; excerpt: string }

const MARKER = /^--\s*contract:\s*expands in\s+(\S+)\s*$/im

/** The SQL with comments and string literals blanked, so words inside them never match. */
function code(sql: string): string {
  return sql
    .replace(/--[^\n]*/g, ' ')
    .replace(/\/\*[\s\S]*?\*\//g, ' ')
    .replace(/'(?:[^']|'')*'/g, "''")
}

const name = String.raw`(?:[\`"\[]?[\w$]+[\`"\]]?\.)?[\`"\[]?[\w$]+[\`"\]]?`
// PostgreSQL may say IF EXISTS or ONLY before the table's name
const alterTable = String.raw`\bALTER\s+TABLE\s+(?:IF\s+EXISTS\s+)?(?:ONLY\s+)?${name}`
const alterColumn = String.raw`${alterTable}\s+ALTER\s+(?:COLUMN\s+)?${name}`
const RULES: { rule: string; pattern: RegExp }[] = [
  { rule: 'drops a table', pattern: new RegExp(String.raw`\bDROP\s+TABLE\b(?:\s+IF\s+EXISTS)?\s+${name}`, 'gi') },
  { rule: 'drops a column', pattern: new RegExp(String.raw`${alterTable}\s+DROP\b(?!\s+CONSTRAINT\b)(?:\s+COLUMN)?(?:\s+IF\s+EXISTS)?\s+${name}`, 'gi') },
  { rule: 'renames a table', pattern: new RegExp(String.raw`${alterTable}\s+RENAME\s+TO\s+${name}`, 'gi') },
  { rule: 'renames a column', pattern: new RegExp(String.raw`${alterTable}\s+RENAME\s+(?:COLUMN\s+)?(?!TO\b|CONSTRAINT\b)${name}\s+TO\s+${name}`, 'gi') },
  // drizzle-kit rebuilds a table to change a column: __new_x, copy, drop x, rename.
  { rule: 'rewrites a table', pattern: /\b(?:CREATE\s+TABLE|INSERT\s+INTO)\s+[`"[]?__new_\w+/gi },
  { rule: 'rewrites a table', pattern: /\bPRAGMA\s+foreign_keys\s*=\s*(?:OFF|0|false)\b/gi },
  { rule: 'rewrites a table', pattern: new RegExp(String.raw`\bCREATE\s+TABLE\s+${name}\s+AS\s+SELECT\b`, 'gi') },
  // PostgreSQL changes a column in place; the release still running reads and writes it as it was.
  { rule: "changes a column's type", pattern: new RegExp(String.raw`${alterColumn}\s+(?:SET\s+DATA\s+)?TYPE\b`, 'gi') },
  { rule: 'makes a column NOT NULL', pattern: new RegExp(String.raw`${alterColumn}\s+SET\s+NOT\s+NULL\b`, 'gi') },
  { rule: 'drops a constraint', pattern: new RegExp(String.raw`${alterTable}\s+DROP\s+CONSTRAINT\b(?:\s+IF\s+EXISTS)?\s+${name}`, 'gi') },
  { rule: "drops a column's default", pattern: new RegExp(String.raw`${alterColumn}\s+DROP\s+DEFAULT\b`, 'gi') },
]

/** Problems of one migration's SQL; `earlier` lists the tags that ran before it. */
export function check(tag: string, sql: string, earlier: readonly string[]): Problem[] {
  const text = code(sql)
  const problems: Problem[] = []
  for (const { rule, pattern } of RULES) {
    for (const m of text.matchAll(pattern)) problems.push({ tag, rule, excerpt: m[0].replace(/\s+/g, ' ') })
  }
  for (const m of text.matchAll(new RegExp(String.raw`${alterTable}\s+ADD\b(?!\s+CONSTRAINT\b)[^;]*`, 'gi'))) {
    // an identity or a serial fills the column as a default would
    if (/\bNOT\s+NULL\b/i.test(m[0]) && !/\bDEFAULT\b|\bGENERATED\b|\b(?:small|big)?serial\b/i.test(m[0])) {
      problems.push({ tag, rule: 'adds a NOT NULL column without a default', excerpt: m[0].replace(/\s+/g, ' ').trim() })
    }
  }
  const marker = MARKER.exec(sql)
  if (!marker) return problems
  const expandTag = marker[1]!
  if (!earlier.includes(expandTag)) {
    return [...problems, { tag, rule: `is marked as the contract step of ${expandTag}, which is not an earlier migration`, excerpt: marker[0].trim() }]
  }
  // A valid contract step may contract; nothing else is excused.
  return []
}

/** Checks every migration in the journal, each against the ones before it. */
export function checkFolder(folder = migrationsFolder()): Problem[] {
  const journal = JSON.parse(fs.readFileSync(path.join(/*turbopackIgnore: true*/ folder, 'meta', '_journal.json'), 'utf8')) as { entries: { tag: string }[] }
  const tags = journal.entries.map((e) => e.tag)
  return tags.flatMap((tag, i) => check(tag, fs.readFileSync(path.join(/*turbopackIgnore: true*/ folder, `${tag}.sql`), 'utf8'), tags.slice(0, i)))
}

export function describe(problems: Problem[]): string {
  return problems.map((p) => `${p.tag} ${p.rule}: ${p.excerpt}`).join('\n')
}
