'use client'

import { buttonDark } from '../../../../_components/styles'

export function PrintButton() {
  return (
    <button type="button" onClick={() => window.print()} className={`${buttonDark} no-print`} data-testid="print-slip">
      Print
    </button>
  )
}
