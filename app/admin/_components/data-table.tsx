import { TableScroll, table, th } from './ui'

// Every admin list is the same table: a named scrolling region, a header row of column
// headings, then the page's rows. A column of figures is right-aligned; a column holding
// only buttons keeps its heading for screen readers and hides it on screen.
export type Column = string | { label: string; numeric?: boolean; visuallyHidden?: boolean }

export function DataTable({ label, columns, children }: { label: string; columns: Column[]; children: React.ReactNode }) {
  return (
    <TableScroll label={label}>
      <table className={table}>
        <thead>
          <tr>
            {columns.map((column) => {
              const c = typeof column === 'string' ? { label: column } : column
              return (
                <th key={c.label} className={c.numeric ? `${th} text-right` : th} scope="col">
                  {c.visuallyHidden ? <span className="sr-only">{c.label}</span> : c.label}
                </th>
              )
            })}
          </tr>
        </thead>
        <tbody>{children}</tbody>
      </table>
    </TableScroll>
  )
}
