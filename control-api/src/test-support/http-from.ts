import { Agent, request, type IncomingHttpHeaders } from 'node:http';

export interface RawReply {
  status: number;
  headers: IncomingHttpHeaders;
  /** The body as sent (still compressed when Content-Encoding says so). */
  raw: Buffer;
  json<T = Record<string, unknown>>(): T;
}

const agents = new Map<string, Agent>();

/**
 * A keep-alive connection pool whose sockets leave from `localAddress`, a loopback address
 * (127.0.0.0/8 is all loopback on Linux), so that a test can be several clients at once.
 */
function agentFor(localAddress: string): Agent {
  if (!/^127\.\d+\.\d+\.\d+$/.test(localAddress)) {
    throw new Error(`tests use loopback source addresses only, not ${localAddress}`);
  }
  let agent = agents.get(localAddress);
  if (!agent) {
    agent = new Agent({ keepAlive: true, localAddress });
    agents.set(localAddress, agent);
  }
  return agent;
}

/** Closes every pooled connection (call in afterAll). */
export function closeSourceAddresses(): void {
  for (const agent of agents.values()) agent.destroy();
  agents.clear();
}

/** One HTTP request from a chosen loopback source address. */
export function requestFrom(
  localAddress: string,
  url: string,
  options: { method?: string; headers?: Record<string, string>; json?: unknown } = {},
): Promise<RawReply> {
  const headers: Record<string, string> = { ...options.headers };
  let body: string | undefined;
  if (options.json !== undefined) {
    body = JSON.stringify(options.json);
    headers['content-type'] ??= 'application/json';
  }
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: options.method ?? 'GET', headers, agent: agentFor(localAddress) },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          const raw = Buffer.concat(chunks);
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            raw,
            json: <T>() => JSON.parse(raw.toString('utf8')) as T,
          });
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}
