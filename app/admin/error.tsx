'use client'

import { ErrorPage } from '../_components/error-page'

// The admin's pages fail inside the admin's frame (this boundary sits under its layout).
export default ErrorPage
