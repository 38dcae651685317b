import { buttonSmall } from './styles'

// A one-button form that posts a single id to a server action (replay an event, retry a
// job): a form rather than a fetch, so it works without JavaScript.
export function RowAction({ action, name, value, children }: { action: (formData: FormData) => Promise<void>; name: string; value: string | number; children: React.ReactNode }) {
  return (
    <form action={action}>
      <input type="hidden" name={name} value={value} />
      <button type="submit" className={buttonSmall}>{children}</button>
    </form>
  )
}
