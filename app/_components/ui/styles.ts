// Class lists shared by links and buttons that should look alike; each names a component
// class in app/globals.css, so the markup carries a short name rather than the whole list.

export const buttonPrimary = 'btn-primary'

export const buttonSecondary = 'btn-secondary'

export const container = 'wrap'
