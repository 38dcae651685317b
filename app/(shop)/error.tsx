'use client'

import { ErrorPage } from '../_components/error-page'

// The shop's pages fail inside the shop's frame (this boundary sits under the (shop) layout).
// There is no boundary at the root: its chunk would load on every page too, a second copy of
// the same page (the admin has its own, app/admin/error.tsx).
export default ErrorPage
