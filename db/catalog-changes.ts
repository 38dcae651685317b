// A row of catalog_changes as both engines read it back: lib/cache.ts on SQLite and
// db/pg/changes.ts on PostgreSQL hand the same shape on, so whoever announces a change cannot
// tell which engine recorded it.
//
// A row says what one product shows after a committed change to its stock or holds: whether
// it is sold out (`isSoldOut` 0 or 1, as SQLite stores flags) and how many of its variants
// are. A row with no product (`productId` and `slug` null) is a catalog edit: every page may
// have changed. `origin` names the process that wrote it, so that process skips it (it heard
// its own changes as they committed).
export type ChangeRow = { id: number; productId: number | null; slug: string | null; isSoldOut: number; soldOutVariants: number; origin: string }
