/**
 * Debian's Chromium driven by playwright-core: never a downloaded browser, a fresh profile per
 * launch, and nothing that reaches beyond loopback on its own (no QUIC, sync, component updates
 * or background networking).
 */
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';

export const CHROMIUM_PATH = '/usr/bin/chromium';

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface LaunchedChromium {
  readonly context: BrowserContext;
  close(): Promise<void>;
}

/** Launches Chromium with a new user-data-dir; fails naming the Debian package when absent. */
export async function launchChromium(
  options: { viewport?: { width: number; height: number } } = {},
): Promise<LaunchedChromium> {
  try {
    accessSync(CHROMIUM_PATH, constants.X_OK);
  } catch {
    throw new Error(
      `Chromium not found at ${CHROMIUM_PATH} (Debian package 'chromium'; run scripts/setup-deps)`,
    );
  }
  const userDataDir = mkdtempSync(join(tmpdir(), 'cybercorp-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: options.viewport ?? { width: 1440, height: 900 },
  });
  return {
    context,
    close: async () => {
      await context.close();
      rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}
