/**
 * The Grafana side of the browser test, without Grafana: builds the plugin harness
 * (grafana-app-plugin/harness, the plugin's real module in a plain page) and serves it from a
 * loopback server that also plays Grafana's plugin proxy (GrafanaProxyFake, the one the plugin's
 * own tests use). The secrets stay in this process; the browser only ever sees the plugin
 * settings without them, as Grafana's settings endpoint answers.
 */
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { extname, join, normalize, sep } from 'node:path';
import { REPO_ROOT } from './otelcol.js';
import {
  GrafanaProxyFake,
  type GrafanaRole,
  type PluginProxyConfig,
  type PluginSettings,
} from '../../grafana-app-plugin/src/test/grafanaProxy.js';
import { runCommand } from './processes.js';

export const PLUGIN_DIR = join(REPO_ROOT, 'grafana-app-plugin');

interface PluginJson extends PluginProxyConfig {
  name: string;
  info: Record<string, unknown>;
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
  private readonly grafana: GrafanaProxyFake;
  private readonly server: Server;

  private constructor(
    private readonly bundleDir: string,
    private readonly settings: PluginSettings,
    role: GrafanaRole,
    grafanaUser: string | undefined,
  ) {
    this.plugin = JSON.parse(
      readFileSync(join(PLUGIN_DIR, 'src/plugin.json'), 'utf8'),
    ) as PluginJson;
    this.grafana = new GrafanaProxyFake({ plugin: this.plugin, settings, role, grafanaUser });
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
    if (url.pathname.startsWith(this.grafana.prefix)) {
      await this.proxy(request, response, url);
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

  private async proxy(request: IncomingMessage, response: ServerResponse, url: URL): Promise<void> {
    const method = request.method ?? 'GET';
    const headers: Record<string, string> = {};
    if (request.headers['content-type']) headers['content-type'] = request.headers['content-type'];
    const body =
      method === 'GET' || method === 'HEAD' ? undefined : new Uint8Array(await readBody(request));
    const answer = await this.grafana.fetch(url.pathname + url.search, { method, headers, body });
    const payload = Buffer.from(await answer.arrayBuffer());
    response.writeHead(answer.status, {
      'content-type': answer.headers.get('content-type') ?? 'application/octet-stream',
    });
    response.end(payload);
  }
}
