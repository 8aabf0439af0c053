import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import reactHooks from 'eslint-plugin-react-hooks';

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', '.data/**', '.cache/**', 'test-artifacts/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        Buffer: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        URL: 'readonly',
        fetch: 'readonly',
        AbortSignal: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
    },
  },
  {
    // Black-box tests read JSON bodies of many shapes from the real servers.
    files: ['e2e/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    // The Grafana app plugin runs in the browser and is React.
    files: ['grafana-app-plugin/**/*.{ts,tsx}'],
    plugins: { 'react-hooks': reactHooks },
    rules: reactHooks.configs.recommended.rules,
  },
  {
    // The plugin's bundle runs in the browser: it takes the contract's types from protocol/,
    // which the build erases, and never its zod or Node code.
    files: ['grafana-app-plugin/**/*.{ts,tsx}'],
    // Integration tests run in Node against the real API; they are not bundled.
    ignores: ['grafana-app-plugin/**/*.int.test.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: [
            {
              name: '@cybercorp/protocol',
              message: 'The plugin may only `import type` from @cybercorp/protocol.',
              allowTypeImports: true,
            },
            { name: 'zod', message: 'No zod in the browser bundle.' },
          ],
          patterns: [
            {
              group: ['@cybercorp/protocol/*', '**/protocol/src/**', '**/protocol/dist/**'],
              message: 'Import types from @cybercorp/protocol itself.',
            },
          ],
        },
      ],
    },
  },
);
