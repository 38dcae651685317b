// A CSV download streamed from a generator of lines: each chunk is pulled only when the
// client is ready for it, so an export never holds every row in memory. Private, never cached.
export function csvResponse(lines: Generator<string, void, unknown>, name: string): Response {
  const encoder = new TextEncoder()
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      const next = lines.next()
      if (next.done) controller.close()
      else controller.enqueue(encoder.encode(next.value))
    },
    cancel() {
      lines.return(undefined)
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
