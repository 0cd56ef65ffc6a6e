// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/**', 'scratch/**', 'contracts/artifacts/**', '.tools/**', '.devnet/**', '.temporal/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', Buffer: 'readonly', URL: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // Workflow code is deterministic: no I/O, no chain SDKs, no wall clock.
    files: ['workflows/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['viem', 'viem/*', '@solana/*', 'node:*', 'fs', 'path', 'pino', 'prom-client', '@temporalio/client', '@temporalio/worker', '../chains/*', '../chains/**', '../activities/*', '../keeper/*'],
              allowTypeImports: true,
              message: 'workflow code is deterministic: no I/O modules (type-only imports are fine)',
            },
          ],
        },
      ],
    },
  },
);
