// Icons: decorative, so hidden from assistive technology; the control carries the name.
// Each is a <use> of a symbol in public/icons.svg (fetched once and cached) rather than its
// drawing inline: an inline drawing was repeated on every page, and in a server component
// twice (HTML and RSC payload). The symbols draw with currentColor, so the text colour
// still colours them.

type IconProps = { className?: string }

/** An icon component from its symbol's id and its default size. */
function icon(id: string, defaultClassName: string) {
  return function Icon({ className = defaultClassName }: IconProps) {
    return (
      <svg className={className} aria-hidden="true">
        <use href={`/icons.svg#${id}`} />
      </svg>
    )
  }
}

export const SearchIcon = icon('search', 'size-5')

export const BagIcon = icon('bag', 'size-5')

export const PersonIcon = icon('person', 'size-5')

export const ArrowRightIcon = icon('arrow-right', 'size-4')

export const CloseIcon = icon('close', 'size-4')

export const TruckIcon = icon('truck', 'size-5')

export const ChevronDownIcon = icon('chevron-down', 'size-4')
