import path from 'node:path'
import { defineConfig } from 'vitest/config'

// `server-only` throws outside React's server environment; tests run server modules directly.
const alias = { '@': path.resolve(import.meta.dirname), 'server-only': path.resolve(import.meta.dirname, 'node_modules/server-only/empty.js') }

export default defineConfig({
  resolve: { alias },
  test: {
    projects: [
      {
        resolve: { alias },
        test: {
          name: 'unit',
          include: ['tests/unit/**/*.test.ts'],
          environment: 'node',
          globalSetup: ['tests/support/global-setup.ts'],
          env: { LOG_LEVEL: 'silent' },
          sequence: { groupOrder: 0 },
        },
      },
      {
        resolve: { alias },
        test: {
          name: 'integration',
          include: ['tests/integration/**/*.test.ts', 'tests/chaos/**/*.test.ts', 'tests/security/**/*.test.ts'],
          environment: 'node',
          globalSetup: ['tests/support/global-setup.ts', 'tests/support/postgres-template.ts'],
          env: { LOG_LEVEL: 'error' },
          testTimeout: 60_000,
          hookTimeout: 60_000,
          // Integration tests start servers and processes; two cores, so keep it modest.
          maxWorkers: 2,
          // after the unit tests, which are quick and tell the most when they fail
          sequence: { groupOrder: 1 },
        },
      },
      {
        resolve: { alias },
        test: {
          // A three-member Patroni cluster with etcd, started and killed by the test itself: about
          // 0.8 GB and both cores, so it runs alone and only when asked (`npm run test:failover`,
          // whose store test also needs the production build), never as part of `npm test`.
          name: 'failover',
          include: ['tests/failover/**/*.test.ts'],
          environment: 'node',
          env: { LOG_LEVEL: 'error' },
          testTimeout: 300_000,
          hookTimeout: 180_000,
          maxWorkers: 1,
          sequence: { groupOrder: 2 },
        },
      },
    ],
  },
})
