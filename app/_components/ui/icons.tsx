import type { ReactNode } from 'react'

// Inline icons: decorative, so hidden from assistive technology; the control carries the name.

type IconProps = { className?: string }

/** An icon component from its drawing, its default size and its stroke. */
function icon(drawing: ReactNode, defaultClassName: string, strokeWidth = 1.8) {
  return function Icon({ className = defaultClassName }: IconProps) {
    return (
      <svg viewBox="0 0 24 24" className={className} fill="none" stroke="currentColor" strokeWidth={strokeWidth} strokeLinecap="round" strokeLinejoin="round" aria-hidden="true">
        {drawing}
      </svg>
    )
  }
}

export const SearchIcon = icon(
  <>
    <circle cx="11" cy="11" r="7" />
    <path d="m20 20-3.5-3.5" />
  </>,
  'size-5',
)

export const BagIcon = icon(
  <>
    <path d="M5 8h14l-1.2 11.1a2 2 0 0 1-2 1.9H8.2a2 2 0 0 1-2-1.9L5 8Z" />
    <path d="M9 8V6.5a3 3 0 0 1 6 0V8" />
  </>,
  'size-5',
)

export const ArrowRightIcon = icon(<path d="M5 12h14M13 6l6 6-6 6" />, 'size-4')

export const CloseIcon = icon(<path d="M6 6l12 12M18 6 6 18" />, 'size-4')

export const TruckIcon = icon(
  <>
    <path d="M3 6h11v10H3zM14 10h4l3 3v3h-7" />
    <circle cx="7" cy="17.5" r="1.5" />
    <circle cx="17" cy="17.5" r="1.5" />
  </>,
  'size-5',
  1.6,
)
