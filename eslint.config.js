import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';
import reactHooks from 'eslint-plugin-react-hooks';

/**
 * TypeScript linted with type information, each file through the tsconfig that type-checks it
 * (tests included, which the build configs leave out). Files outside these, the JavaScript
 * scripts and configs and vitest.config.ts, get the rules that need no types.
 */
const typedProjects = [
  'protocol/tsconfig.test.json',
  'logging/tsconfig.test.json',
  'collector-agent/tsconfig.test.json',
  'control-api/tsconfig.test.json',
  'grafana-app-plugin/tsconfig.test.json',
  'e2e/tsconfig.json',
];
const typedFiles = [
  '{protocol,logging,collector-agent,control-api}/src/**/*.ts',
  'grafana-app-plugin/{src,harness}/**/*.{ts,tsx}',
  'e2e/**/*.ts',
  'prometheus/**/*.ts',
];

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', '.data/**', '.cache/**', 'test-artifacts/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    // Everything but the plugin's browser code runs in Node.
    ignores: ['grafana-app-plugin/{src,harness}/**'],
    languageOptions: { globals: globals.node },
  },
  {
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
    },
  },
  {
    files: typedFiles,
    extends: [tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      parserOptions: { project: typedProjects, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // Part of recommendedTypeChecked already; named so that no later block weakens them.
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      // Off: our async functions without an await implement Promise-returning interfaces (fakes,
      // in-memory stores, synchronous /proc reads), where `async` is what turns a synchronous
      // throw into the rejection callers handle. Dropping it would change that behaviour.
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/only-throw-error': [
        'error',
        {
          // Grafana's backend service rejects with plain objects; its fakes reject the same way.
          allow: [
            { from: 'package', package: '@grafana/runtime', name: 'FetchError' },
            {
              from: 'file',
              name: 'HttpFailure',
              path: 'grafana-app-plugin/src/test/fakeBackend.ts',
            },
          ],
        },
      ],
    },
  },
  {
    // vitest's asymmetric matchers (expect.any, expect.stringContaining, ...) are typed `any`, and
    // every unsafe assignment the package tests had was one of them inside an expected object.
    files: ['**/*.test.ts', '**/*.test.tsx'],
    rules: { '@typescript-eslint/no-unsafe-assignment': 'off' },
  },
  {
    // Black-box tests read JSON bodies of many shapes from the real servers as `any` and assert
    // on them with expect(); typing every body would restate the API in the tests.
    files: ['e2e/**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
  {
    // The Grafana app plugin runs in the browser and is React.
    files: ['grafana-app-plugin/{src,harness}/**/*.{ts,tsx}'],
    languageOptions: { globals: globals.browser },
    plugins: { 'react-hooks': reactHooks },
    rules: reactHooks.configs.recommended.rules,
  },

  // Layer boundaries.
  {
    files: ['control-api/src/routes/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/repositories', '**/repositories/**'],
              message: 'Routes stay thin: they call services, and only services use repositories.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['protocol/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: [
                '@cybercorp/*',
                '**/collector-agent/**',
                '**/control-api/**',
                '**/grafana-app-plugin/**',
                '**/e2e/**',
              ],
              message: 'protocol/ is the shared contract: it depends on no other package.',
            },
          ],
        },
      ],
    },
  },
  {
    // The plugin's bundle runs in the browser: it takes the contract's types from protocol/, which
    // the build erases, and never its zod or Node code. Its integration tests run in Node against
    // the real API and are not bundled.
    files: ['grafana-app-plugin/**/*.{ts,tsx}'],
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
