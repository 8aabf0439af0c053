/**
 * The Grafana side of the browser test, without Grafana: builds the plugin harness
 * (grafana-app-plugin/harness, the plugin's real module in a plain page) and serves it from a
 * loopback server that also plays Grafana's plugin proxy. The proxy follows plugin.json's
 * `routes` as Grafana does: it matches the route by path prefix and method, checks the signed-in
 * user's Grafana role against `reqRole`, and fills the target URL and headers from the plugin's
 * jsonData and secureJsonData. The secrets stay in this process; the browser only ever sees the
 * plugin settings without them, as Grafana's settings endpoint answers.
 */
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { extname, join, normalize, sep } from 'node:path';
import { REPO_ROOT } from './otelcol.js';
import { runCommand } from './processes.js';

export const PLUGIN_DIR = join(REPO_ROOT, 'grafana-app-plugin');

interface PluginRoute {
  path: string;
  method?: string;
  reqRole?: string;
  url: string;
  headers?: Array<{ name: string; content: string }>;
}
interface PluginJson {
  id: string;
  name: string;
  info: Record<string, unknown>;
  routes: PluginRoute[];
}

export type GrafanaRole = 'Viewer' | 'Editor' | 'Admin';
const RANK: Record<string, number> = { Viewer: 1, Editor: 2, Admin: 3 };

export interface PluginSettings {
  jsonData: Record<string, string>;
  secureJsonData: Record<string, string>;
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
};

/** Builds the harness bundle with webpack into `outDir`; throws with webpack's output if it fails. */
export async function buildHarness(outDir: string): Promise<void> {
  const require = createRequire(import.meta.url);
  const cli = require.resolve('webpack-cli/bin/cli.js', { paths: [PLUGIN_DIR] });
  const result = await runCommand(
    process.execPath,
    [cli, '--config', 'harness/webpack.config.js', '--output-path', outDir],
    { cwd: PLUGIN_DIR, timeoutMs: 300_000 },
  );
  if (result.code !== 0) {
    throw new Error(`building the plugin harness failed:\n${result.stdout}\n${result.stderr}`);
  }
}

function fill(template: string, settings: PluginSettings): string {
  return template
    .replace(/\{\{\s*\.JsonData\.(\w+)\s*\}\}/g, (_, key: string) => settings.jsonData[key] ?? '')
    .replace(
      /\{\{\s*\.SecureJsonData\.(\w+)\s*\}\}/g,
      (_, key: string) => settings.secureJsonData[key] ?? '',
    );
}

async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Answers the way Grafana's API does: JSON with a `message`. */
function sendGrafanaError(response: ServerResponse, status: number, message: string): void {
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(JSON.stringify({ message }));
}

export class PluginHarnessServer {
  private readonly plugin: PluginJson;
  private readonly server: Server;
  /** Every proxied request, as the control API received it (method, path, status). */
  readonly proxied: Array<{ method: string; path: string; status: number }> = [];

  private constructor(
    private readonly bundleDir: string,
    private readonly settings: PluginSettings,
    private readonly role: GrafanaRole,
    private readonly grafanaUser: string | undefined,
  ) {
    this.plugin = JSON.parse(
      readFileSync(join(PLUGIN_DIR, 'src/plugin.json'), 'utf8'),
    ) as PluginJson;
    this.server = createServer((request, response) => {
      this.handle(request, response).catch((error: unknown) => {
        if (!response.headersSent) sendGrafanaError(response, 502, String(error));
        else response.destroy();
      });
    });
  }

  /**
   * Serves `bundleDir` (a built harness) on a free loopback port, as a Grafana user of `role`.
   * With `grafanaUser`, proxied requests name that user in X-Grafana-User, as Grafana does with
   * `send_user_header = true`.
   */
  static async start(options: {
    bundleDir: string;
    settings: PluginSettings;
    role: GrafanaRole;
    grafanaUser?: string;
  }): Promise<PluginHarnessServer> {
    const harness = new PluginHarnessServer(
      options.bundleDir,
      options.settings,
      options.role,
      options.grafanaUser,
    );
    await new Promise<void>((resolve, reject) => {
      harness.server.once('error', reject);
      harness.server.listen(0, '127.0.0.1', () => resolve());
    });
    return harness;
  }

  get url(): string {
    const address = this.server.address();
    if (!address || typeof address !== 'object') throw new Error('harness server is not listening');
    return `http://127.0.0.1:${address.port}`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://harness');
    const proxyPrefix = `/api/plugin-proxy/${this.plugin.id}/`;
    if (url.pathname.startsWith(proxyPrefix)) {
      await this.proxy(request, response, url.pathname.slice(proxyPrefix.length) + url.search);
    } else if (url.pathname === `/api/plugins/${this.plugin.id}/settings`) {
      this.sendSettings(request, response);
    } else if (url.pathname.startsWith('/harness/')) {
      await this.sendFile(response, url.pathname.slice('/harness/'.length));
    } else if (url.pathname.startsWith('/api/')) {
      sendGrafanaError(response, 404, 'Not found');
    } else if (request.method === 'GET') {
      // Every page path (/a/<plugin id>/…, /plugins/<plugin id>) is the single-page app.
      await this.sendFile(response, 'index.html');
    } else {
      sendGrafanaError(response, 405, 'Method not allowed');
    }
  }

  /** Grafana's GET /api/plugins/<id>/settings: jsonData, and only whether each secret is set. */
  private sendSettings(request: IncomingMessage, response: ServerResponse): void {
    if (request.method !== 'GET') {
      sendGrafanaError(response, 405, 'the harness does not store plugin settings');
      return;
    }
    const secureJsonFields = Object.fromEntries(
      Object.entries(this.settings.secureJsonData).map(([key, value]) => [key, value !== '']),
    );
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(
      JSON.stringify({
        id: this.plugin.id,
        name: this.plugin.name,
        type: 'app',
        info: this.plugin.info,
        enabled: true,
        pinned: true,
        jsonData: this.settings.jsonData,
        secureJsonFields,
      }),
    );
  }

  private async sendFile(response: ServerResponse, relative: string): Promise<void> {
    const path = normalize(join(this.bundleDir, relative));
    if (!path.startsWith(this.bundleDir + sep)) {
      sendGrafanaError(response, 404, 'Not found');
      return;
    }
    let content: Buffer;
    try {
      content = await readFile(path);
    } catch {
      sendGrafanaError(response, 404, 'Not found');
      return;
    }
    response.writeHead(200, {
      'content-type': CONTENT_TYPES[extname(path)] ?? 'application/octet-stream',
    });
    response.end(content);
  }

  private async proxy(
    request: IncomingMessage,
    response: ServerResponse,
    proxyPath: string,
  ): Promise<void> {
    const method = request.method ?? 'GET';
    const route = this.plugin.routes.find(
      (r) =>
        (proxyPath === r.path || proxyPath.startsWith(`${r.path}/`)) &&
        (!r.method || r.method === method),
    );
    if (!route) {
      sendGrafanaError(response, 404, 'plugin route match not found');
      return;
    }
    if ((RANK[this.role] ?? 0) < (RANK[route.reqRole ?? 'Viewer'] ?? Infinity)) {
      sendGrafanaError(response, 403, 'plugin proxy route access denied');
      return;
    }
    const target = new URL(fill(route.url, this.settings) + proxyPath.slice(route.path.length));
    // Only what Grafana forwards: the route's headers replace the browser's credentials.
    const headers: Record<string, string> = { accept: 'application/json' };
    const contentType = request.headers['content-type'];
    if (contentType) headers['content-type'] = contentType;
    if (this.grafanaUser !== undefined) headers['x-grafana-user'] = this.grafanaUser;
    for (const header of route.headers ?? [])
      headers[header.name] = fill(header.content, this.settings);
    const body =
      method === 'GET' || method === 'HEAD' ? undefined : new Uint8Array(await readBody(request));
    const answer = await fetch(target, {
      method,
      headers,
      body,
      signal: AbortSignal.timeout(60_000),
    });
    const payload = Buffer.from(await answer.arrayBuffer());
    this.proxied.push({ method, path: target.pathname + target.search, status: answer.status });
    response.writeHead(answer.status, {
      'content-type': answer.headers.get('content-type') ?? 'application/octet-stream',
    });
    response.end(payload);
  }
}
