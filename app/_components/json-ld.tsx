import { serializeJsonLd } from '@/lib/json-ld'

/** Structured data, serialized so that no string in it can end the script element. */
export function JsonLd({ data }: { data: unknown }) {
  return <script type="application/ld+json" dangerouslySetInnerHTML={{ __html: serializeJsonLd(data) }} />
}
