import { defineConfig } from 'vitest/config';

// One runner for every package. "unit" tests fake at most one boundary and run in parallel;
// "integration" tests start real servers (PostgreSQL, the control API, agents) and run one file
// at a time so they do not compete for the machine's two cores.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: [
            'protocol/src/**/*.test.ts',
            'logging/src/**/*.test.ts',
            'collector-agent/src/**/*.test.ts',
            'control-api/src/**/*.test.ts',
          ],
          exclude: ['**/*.int.test.ts', '**/node_modules/**', '**/dist/**'],
        },
      },
      {
        test: {
          name: 'integration',
          include: ['**/*.int.test.ts', 'e2e/**/*.test.ts'],
          exclude: ['**/node_modules/**', '**/dist/**'],
          fileParallelism: false,
          testTimeout: 120_000,
          hookTimeout: 180_000,
        },
      },
      {
        test: {
          name: 'plugin',
          include: ['grafana-app-plugin/src/**/*.test.{ts,tsx}'],
          exclude: ['**/*.int.test.ts', '**/node_modules/**', '**/dist/**'],
          environment: 'jsdom',
          setupFiles: ['grafana-app-plugin/src/test/setup.ts'],
          // @grafana/* import CSS files and CommonJS named exports, which only Vite (not Node) can load.
          server: { deps: { inline: [/@grafana\//] } },
        },
      },
    ],
  },
});
