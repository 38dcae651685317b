// An audit row's before and after (JSON as recorded) as the owner reads it: one line per field
// that changed, "field: before → after", values in words rather than JSON.

export type Change = { field: string; before?: string; after?: string }

const MAX = 160

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** One value in words: text as it is, yes/no, a list joined, a nested record as "k: v" pairs. */
export function describe(value: unknown, depth = 0): string {
  let text: string
  if (value === null || value === undefined || value === '') text = '—'
  else if (typeof value === 'boolean') text = value ? 'yes' : 'no'
  else if (typeof value === 'string' || typeof value === 'number' || typeof value === 'bigint') text = String(value)
  else if (Array.isArray(value)) text = value.length === 0 ? 'none' : depth > 0 ? `${value.length} ${value.length === 1 ? 'item' : 'items'}` : value.map((v) => (isRecord(v) ? `(${describe(v, depth + 1)})` : describe(v, depth + 1))).join('; ')
  else if (isRecord(value)) text = depth > 2 ? '…' : Object.entries(value).map(([k, v]) => `${k}: ${describe(v, depth + 1)}`).join(', ') || '—'
  else text = String(value)
  return text.length > MAX ? `${text.slice(0, MAX - 1)}…` : text
}

/** The fields of before and after that differ, in the order they were recorded. */
export function changesOf(before: unknown, after: unknown): Change[] {
  if (!isRecord(before) && !isRecord(after)) {
    if (before === null || before === undefined) return after === null || after === undefined ? [] : [{ field: '', after: describe(after) }]
    return [{ field: '', before: describe(before), ...(after === null || after === undefined ? {} : { after: describe(after) }) }]
  }
  const b = isRecord(before) ? before : {}
  const a = isRecord(after) ? after : {}
  const fields = [...new Set([...Object.keys(b), ...Object.keys(a)])]
  return fields
    .filter((field) => JSON.stringify(b[field]) !== JSON.stringify(a[field]))
    .map((field) => ({
      field,
      ...(field in b && isRecord(before) ? { before: describe(b[field]) } : {}),
      ...(field in a && isRecord(after) ? { after: describe(a[field]) } : {}),
    }))
}
