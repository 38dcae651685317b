'use client'

import NextLink from 'next/link'
import { useRouter } from 'next/navigation'
import type { ComponentProps, FocusEvent, PointerEvent, TouchEvent } from 'react'

// The shop's links fetch the next page when the shopper reaches for one (a pointer over it, a
// finger on it, keyboard focus), not when it comes into view. Next's default prefetches every
// link on screen as the page loads: a home page asked for 26 route payloads and decoded each
// on the main thread, in the seconds a phone is also hydrating the page, which is what a
// shopper on a slow phone feels as a page that does not answer yet
// (docs/decisions/043-links-prefetch-on-intent.md). Reaching for a link comes 100–300 ms
// before the click, and the pages answer from the response cache, so the click still finds
// the page ready or nearly.

type Props = ComponentProps<typeof NextLink>

export function Link({ prefetch, href, onPointerEnter, onTouchStart, onFocus, ...rest }: Props) {
  const router = useRouter()
  const target = typeof href === 'string' && href.startsWith('/') && !href.startsWith('//') ? href : null
  // A link that opted out (prefetch={false}) stays out: those pages must not be fetched early.
  const reach = prefetch === false || target === null ? undefined : () => router.prefetch(target)
  return (
    <NextLink
      {...rest}
      href={href}
      prefetch={false}
      onPointerEnter={(event: PointerEvent<HTMLAnchorElement>) => {
        reach?.()
        onPointerEnter?.(event)
      }}
      onTouchStart={(event: TouchEvent<HTMLAnchorElement>) => {
        reach?.()
        onTouchStart?.(event)
      }}
      onFocus={(event: FocusEvent<HTMLAnchorElement>) => {
        reach?.()
        onFocus?.(event)
      }}
    />
  )
}
