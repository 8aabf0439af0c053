import { watch, type FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import type { Logger } from '../logger.js';
import { ConfigError } from './config-error.js';
import { DEFAULT_CONFIG } from './defaults.js';
import type { AgentConfig } from './schema.js';

export type ConfigListener = (next: AgentConfig, previous: AgentConfig) => void;

/** Editors save by rename or by several writes; wait for the burst to settle. */
const RELOAD_DEBOUNCE_MS = 100;

export async function loadConfigFile(path: string): Promise<AgentConfig> {
  const text = await readFile(path, 'utf8');
  // Loaded with the first config file: an agent without one never needs them.
  const [{ parse: parseYaml }, { validateConfig }] = await Promise.all([
    import('yaml'),
    import('./schema.js'),
  ]);
  let document: unknown;
  try {
    document = parseYaml(text);
  } catch (error) {
    throw new ConfigError(`${path} is not valid YAML: ${(error as Error).message}`);
  }
  try {
    return validateConfig(document);
  } catch (error) {
    if (error instanceof ConfigError) throw new ConfigError(`${path}: ${error.message}`);
    throw error;
  }
}

/**
 * The current config, reloaded when its file changes. An invalid file at start is fatal; an
 * invalid edit later keeps the previous config and logs why, so a typo never drops the
 * safety policy.
 */
export class ConfigStore {
  private config: AgentConfig;
  private readonly listeners = new Set<ConfigListener>();
  private watcher: FSWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;
  private reloading: Promise<void> = Promise.resolve();

  private constructor(
    readonly path: string | undefined,
    initial: AgentConfig,
    private readonly log: Logger,
  ) {
    this.config = initial;
  }

  static async open(path: string | undefined, log: Logger): Promise<ConfigStore> {
    if (path === undefined) return new ConfigStore(undefined, DEFAULT_CONFIG, log);
    const absolute = resolve(path);
    return new ConfigStore(absolute, await loadConfigFile(absolute), log);
  }

  current(): AgentConfig {
    return this.config;
  }

  onChange(listener: ConfigListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Watches the directory rather than the file so replace-by-rename saves are seen too. */
  watch(): void {
    if (this.path === undefined || this.watcher) return;
    const name = basename(this.path);
    this.watcher = watch(dirname(this.path), (_event, changed) => {
      if (changed !== null && changed.toString() !== name) return;
      clearTimeout(this.timer);
      this.timer = setTimeout(() => void this.reload(), RELOAD_DEBOUNCE_MS);
    });
    this.watcher.on('error', (error) =>
      this.log.error('config watch failed', { path: this.path, err: error }),
    );
  }

  /** Re-reads the file now; resolves once the new config (or the refusal) is in effect. */
  reload(): Promise<void> {
    this.reloading = this.reloading.then(() => this.reloadNow());
    return this.reloading;
  }

  close(): void {
    clearTimeout(this.timer);
    this.watcher?.close();
    this.watcher = undefined;
  }

  private async reloadNow(): Promise<void> {
    if (this.path === undefined) return;
    let next: AgentConfig;
    try {
      next = await loadConfigFile(this.path);
    } catch (error) {
      this.log.error('config reload refused; keeping the previous config', {
        path: this.path,
        err: error,
      });
      return;
    }
    if (JSON.stringify(next) === JSON.stringify(this.config)) return;
    const previous = this.config;
    this.config = next;
    this.log.info('config reloaded', { path: this.path });
    for (const listener of this.listeners) listener(next, previous);
  }
}
