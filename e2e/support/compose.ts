/**
 * docker-compose.yml as the deployment tests read it (no Docker engine runs here): its services,
 * where a service's bind mounts put the repository's files, and the `${env:NAME}` references of
 * the Collector configuration it runs.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';

const root = resolve(import.meta.dirname, '../..');

export interface ComposeService {
  image?: string;
  build?: unknown;
  command?: string[];
  environment?: Record<string, string>;
  volumes?: string[];
  ports?: string[];
  depends_on?: Record<string, unknown> | string[];
  networks?: Record<string, { ipv4_address?: string } | null>;
}

export const composeText = readFileSync(join(root, 'docker-compose.yml'), 'utf8');
export const compose = parse(composeText) as {
  services: Record<string, ComposeService>;
  volumes: Record<string, unknown>;
  networks?: Record<string, { ipam?: { config?: { subnet?: string; ip_range?: string }[] } }>;
};

export function composeService(name: string): ComposeService {
  const found = compose.services[name];
  if (!found) throw new Error(`docker-compose.yml has no service ${name}`);
  return found;
}

/** A service's bind mounts: a repository path (relative to its root), where the service sees it. */
function bindMounts(svc: ComposeService): { source: string; target: string }[] {
  return (svc.volumes ?? []).flatMap((volume) => {
    const [source, target] = volume.split(':') as [string, string];
    return source.startsWith('./') ? [{ source: source.slice(2), target }] : [];
  });
}

/** `path` under `from` (the same path, or below it as a directory) moved to `to`. */
function moved(path: string, from: string, to: string): string | undefined {
  if (path === from) return to;
  if (path.startsWith(`${from}/`)) return `${to}${path.slice(from.length)}`;
  return undefined;
}

/** Where a service sees a file of the repository (a path relative to its root), by its mounts. */
export function mountedAt(svc: ComposeService, repoPath: string): string | undefined {
  for (const { source, target } of bindMounts(svc)) {
    const path = moved(repoPath, source, target);
    if (path !== undefined) return path;
  }
  return undefined;
}

/** Which file of the repository (a path relative to its root) a service sees at `containerPath`. */
export function repositoryPathOf(svc: ComposeService, containerPath: string): string | undefined {
  for (const { source, target } of bindMounts(svc)) {
    const path = moved(containerPath, target, source);
    if (path !== undefined) return path;
  }
  return undefined;
}

/** A Collector configuration's `${env:NAME}` / `${env:NAME:-default}` references. */
export const ENV_REFERENCE = /\$\{env:([A-Z0-9_]+)(:-([^}]*))?\}/g;
