import nextVitals from 'eslint-config-next/core-web-vitals'
import nextTs from 'eslint-config-next/typescript'

const config = [
  ...nextVitals,
  ...nextTs,
  {
    ignores: ['.next/**', 'node_modules/**', 'storage/**', 'test-results/**', 'playwright-report/**', 'next-env.d.ts'],
  },
  {
    // Habit 1: routes and UI call lib/, never the database.
    files: ['app/**/*.{ts,tsx}'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['@/db', '@/db/*', '**/db/*', 'better-sqlite3', 'drizzle-orm', 'drizzle-orm/*'], message: 'app/ calls lib/; only lib/ and db/ touch the database.' },
          ],
        },
      ],
    },
  },
  {
    // Playwright fixtures receive a function named `use`; it is not a React hook.
    files: ['tests/**/*.ts'],
    rules: { 'react-hooks/rules-of-hooks': 'off' },
  },
  {
    files: ['**/*.{ts,tsx,mjs}'],
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
]

export default config
