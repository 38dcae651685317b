import { NotFoundPage } from './_components/not-found-page'

// The shop's 404 in the shop's frame. It sits under the root layout only (outside the (shop)
// group), so it brings the frame itself: the fetched one, all client components, because this
// page rides along in every page's payload and is prerendered by `next build` as well. Its
// code is loaded only when it is shown (not-found-page.tsx).
export default function NotFound() {
  return <NotFoundPage />
}
