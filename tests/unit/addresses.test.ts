import fs from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { countryName, formatAddress } from '@/lib/addresses'

const base = { name: 'Sam Shopper', line1: '1 Harbour Street', line2: null }

describe('addresses', () => {
  it('writes a US address as "City, ST 12345" and names the country', () => {
    expect(formatAddress({ ...base, city: 'San Francisco', state: 'CA', postalCode: '94105', country: 'US' })).toEqual([
      'Sam Shopper',
      '1 Harbour Street',
      'San Francisco, CA 94105',
      'United States',
    ])
  })
  it('writes a Canadian address with the province before the postal code', () => {
    expect(formatAddress({ ...base, city: 'Toronto', state: 'ON', postalCode: 'M5V 2T6', country: 'CA' })).toEqual([
      'Sam Shopper',
      '1 Harbour Street',
      'Toronto ON  M5V 2T6',
      'Canada',
    ])
  })
  it('puts a British postcode on its own line', () => {
    expect(formatAddress({ ...base, line2: 'Flat 2', city: 'London', postalCode: 'SW1A 1AA', country: 'GB' })).toEqual([
      'Sam Shopper',
      '1 Harbour Street',
      'Flat 2',
      'London',
      'SW1A 1AA',
      'United Kingdom',
    ])
  })
  it('puts the postal code before the town in Germany, France and the Netherlands', () => {
    expect(formatAddress({ ...base, city: 'Berlin', postalCode: '10115', country: 'DE' }).slice(2)).toEqual(['10115 Berlin', 'Germany'])
    expect(formatAddress({ ...base, city: 'Paris', postalCode: '75001', country: 'FR' }).slice(2)).toEqual(['75001 Paris', 'France'])
    expect(formatAddress({ ...base, city: 'Amsterdam', postalCode: '1012 AB', country: 'NL' }).slice(2)).toEqual(['1012 AB Amsterdam', 'Netherlands'])
  })
  it('writes an Australian address as "Suburb STATE 2000"', () => {
    expect(formatAddress({ ...base, city: 'Sydney', state: 'NSW', postalCode: '2000', country: 'AU' }).slice(2)).toEqual(['Sydney NSW 2000', 'Australia'])
  })
  it('leaves out what is missing and never prints a bare separator', () => {
    expect(formatAddress({ name: null, line1: '5 Main St', city: 'Springfield', state: null, postalCode: null, country: 'US' })).toEqual(['5 Main St', 'Springfield', 'United States'])
    expect(formatAddress({ line1: '5 Main St', city: null, state: 'CA', postalCode: '94105', country: 'US' })).toEqual(['5 Main St', 'CA 94105', 'United States'])
  })
  it('names countries, and passes through what it cannot name', () => {
    expect(countryName('de')).toBe('Germany')
    expect(countryName('')).toBe('')
    expect(countryName('Atlantis')).toBe('Atlantis')
  })
})

describe('one address formatter', () => {
  // The admin once wrote "62701 Springfield / IL / US" where the storefront wrote
  // "Springfield, IL 62701 / United States": every page, email and export that shows an
  // address goes through formatAddress, and none builds one from its parts.
  it('is the only code that puts an address together from its parts', () => {
    const root = path.resolve(__dirname, '..', '..')
    const offenders: string[] = []
    const walk = (dir: string) => {
      for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
        const full = path.join(dir, entry.name)
        if (entry.isDirectory()) walk(full)
        else if (/\.tsx?$/.test(entry.name) && full !== path.join(root, 'lib', 'addresses.ts') && /\.postalCode\b/.test(fs.readFileSync(full, 'utf8'))) offenders.push(path.relative(root, full))
      }
    }
    for (const dir of ['app', 'lib']) walk(path.join(root, dir))
    // the payments gateway only translates Stripe's address into ours
    expect(offenders.filter((f) => !f.startsWith(path.join('lib', 'payments')))).toEqual([])
  })

  it('writes the admin order page example as the storefront does', () => {
    expect(formatAddress({ name: 'Pat Doe', line1: '1 Elm St', line2: null, city: 'Springfield', state: 'IL', postalCode: '62701', country: 'US' })).toEqual(['Pat Doe', '1 Elm St', 'Springfield, IL 62701', 'United States'])
  })
})
