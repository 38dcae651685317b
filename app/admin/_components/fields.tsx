import { input, label as labelClass } from './ui'

// A labelled control as the admin forms and filters use it: the label above, the control
// named after its id so a GET filter or a server action reads it under the same key.

type FieldProps = { id: string; label: React.ReactNode }

export function TextField({ id, label, ...rest }: FieldProps & Omit<React.InputHTMLAttributes<HTMLInputElement>, 'id' | 'name' | 'className'>) {
  return (
    <div>
      <label htmlFor={id} className={labelClass}>{label}</label>
      <input id={id} name={id} className={input} {...rest} />
    </div>
  )
}

export function SelectField({ id, label, defaultValue, className, children }: FieldProps & { defaultValue: string; className?: string; children: React.ReactNode }) {
  return (
    <div className={className}>
      <label htmlFor={id} className={labelClass}>{label}</label>
      <select id={id} name={id} defaultValue={defaultValue} className={input}>
        {children}
      </select>
    </div>
  )
}
