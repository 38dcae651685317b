// A CSV download streamed from a generator of lines (an async one when each batch is a
// database read): each chunk is pulled only when the client is ready for it, so an export
// never holds every row in memory. Private, never cached.
export function csvResponse(lines: Generator<string, void, unknown> | AsyncGenerator<string, void, unknown>, name: string): Response {
  const encoder = new TextEncoder()
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      const next = await lines.next()
      if (next.done) controller.close()
      else controller.enqueue(encoder.encode(next.value))
    },
    async cancel() {
      await lines.return(undefined)
    },
  })
  const stamp = new Date().toISOString().slice(0, 10)
  return new Response(body, {
    headers: {
      'Content-Type': 'text/csv; charset=utf-8',
      'Content-Disposition': `attachment; filename="${name}-${stamp}.csv"`,
      'Cache-Control': 'private, no-store',
    },
  })
}
