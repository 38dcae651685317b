/** Every value of an async generator, in order (Array.fromAsync arrives with Node 22). */
export async function collect<T>(values: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = []
  for await (const value of values) out.push(value)
  return out
}
