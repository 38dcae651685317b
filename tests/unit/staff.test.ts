import { describe, expect, it } from 'vitest'
import * as staff from '@/lib/staff'

// What each role may do: pure logic, no database. The staff changes themselves (invitations,
// removal, roles, the refund limit) run on both engines in tests/integration/staff.test.ts.

describe('roles', () => {
  it('gives the owner everything and staff orders, products and stock only', () => {
    const all: staff.Permission[] = ['orders', 'products', 'stock', 'discounts', 'staff', 'settings', 'operations']
    expect(all.filter((p) => staff.can({ role: 'owner' }, p))).toEqual(all)
    expect(all.filter((p) => staff.can({ role: 'staff' }, p))).toEqual(['orders', 'products', 'stock'])
  })
})
