import { sql, type SQL, type SQLWrapper } from 'drizzle-orm'

/**
 * `value` contains `text`, ignoring ASCII case, with `%`, `_` and `\` in the text standing for
 * themselves; the same SQL on SQLite and PostgreSQL. The escape is named because SQLite's LIKE
 * has none by default (a typed `_` would match any character after a literal backslash), and
 * both sides are lower()ed because PostgreSQL's LIKE is case-sensitive where SQLite's is not.
 */
export function contains(value: SQLWrapper, text: string): SQL {
  const pattern = `%${text.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`
  return sql`lower(${value}) LIKE ${pattern} ESCAPE '\\'`
}
