import type { ReactNode } from 'react'

export const metadata = { title: 'Minimal shop', description: 'The bench baseline: one static page and one cookie page.' }

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <body>{children}</body>
    </html>
  )
}
