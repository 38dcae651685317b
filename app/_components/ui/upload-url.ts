// Shared by server and client components, so it imports nothing from the server.

/** Where app/uploads serves a file stored under STORAGE_DIR/uploads. */
export function uploadUrl(relPath: string): string {
  return `/uploads/${relPath.split('/').map(encodeURIComponent).join('/')}`
}
