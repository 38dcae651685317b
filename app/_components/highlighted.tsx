import type { TextPart } from '@/lib/search'

/**
 * Search matches: every part is rendered as text (React escapes it); only the parts the
 * index marked as matches are wrapped in <mark>. No HTML from the database is ever parsed.
 */
export function Highlighted({ parts }: { parts: TextPart[] }) {
  return parts.map((part, i) => (part.isMatch ? <mark key={i}>{part.text}</mark> : <span key={i}>{part.text}</span>))
}
