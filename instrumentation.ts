// Runs once when a server process starts, before it handles a request.
export async function register() {
  // NEXT_RUNTIME is inlined by Next at build time (not configuration), so the edge bundle
  // drops the Node-only import below.
  if (process.env.NEXT_RUNTIME === 'nodejs') {
    const { boot } = await import('./lib/platform/boot')
    await boot()
  }
}
