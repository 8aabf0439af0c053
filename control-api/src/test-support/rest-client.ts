import { request as httpsRequest } from 'node:https';

/**
 * The one REST client of the tests: control-api integration tests, the plugin's contract test
 * and the e2e tests all call the API through it. It is bound to one caller (an access, service
 * or agent token, or none); `as()` gives a client for another caller.
 */

/** A JSON object as the API answers it; callers name a narrower type where they read fields. */
export type JsonObject = Record<string, unknown>;

export interface Reply<T = JsonObject> {
  status: number;
  contentType: string;
  headers: Headers;
  /** Parsed JSON when the answer is JSON, else the text. */
  body: T;
}

export interface TokenPair {
  accessToken: string;
  refreshToken: string;
  tokenType: string;
  expiresIn: number;
}

export type Role = 'viewer' | 'operator' | 'admin';

export interface ApiClientOptions {
  /**
   * The CA (PEM) an `https://` API's certificate is verified against, e.g. makeDevCerts()'s: the
   * client then speaks HTTPS through node:https, as fetch cannot be given a CA.
   */
  ca?: string | Buffer;
}

export class ApiClient {
  constructor(
    readonly baseUrl: string,
    public accessToken?: string,
    private readonly options: ApiClientOptions = {},
  ) {}

  /** A client of the same API for another caller; `undefined` calls without a token. */
  as(token: string | undefined): ApiClient {
    return new ApiClient(this.baseUrl, token, this.options);
  }

  /**
   * Sends `body` as JSON; a string is sent as it is (for malformed bodies), still labelled JSON
   * unless `headers` name another content type.
   */
  async request<T = JsonObject>(
    method: string,
    path: string,
    body?: unknown,
    options: { headers?: Record<string, string> } = {},
  ): Promise<Reply<T>> {
    const headers = new Headers(options.headers);
    if (this.accessToken) headers.set('authorization', `Bearer ${this.accessToken}`);
    let payload: string | undefined;
    if (body !== undefined) {
      if (!headers.has('content-type')) headers.set('content-type', 'application/json');
      payload = typeof body === 'string' ? body : JSON.stringify(body);
    }
    const url = this.baseUrl + path;
    const { ca } = this.options;
    const response =
      ca === undefined
        ? await fetch(url, { method, headers, body: payload })
        : await httpsFetch(url, { method, headers, body: payload, ca });
    const text = await response.text();
    const contentType = response.headers.get('content-type') ?? '';
    return {
      status: response.status,
      contentType,
      headers: response.headers,
      body: (text && contentType.includes('json') ? JSON.parse(text) : text) as T,
    };
  }

  /** Logs in; this client calls as that user from now on. */
  async login(username: string, password: string): Promise<TokenPair> {
    const reply = await this.request<TokenPair>('POST', '/api/v1/auth/login', {
      username,
      password,
    });
    if (reply.status !== 200)
      throw new Error(`login as ${username}: ${reply.status} ${JSON.stringify(reply.body)}`);
    this.accessToken = reply.body.accessToken;
    return reply.body;
  }

  /** Creates a user as the current (admin) caller and returns a client logged in as it. */
  async userClient(username: string, role: Role): Promise<ApiClient> {
    const password = `${username}-password-123`;
    const created = await this.request('POST', '/api/v1/users', { username, password, role });
    if (created.status !== 201) throw new Error(`cannot create ${username}: ${created.status}`);
    const client = this.as(undefined);
    await client.login(username, password);
    return client;
  }
}

/** What `request` reads of a response, from fetch or from node:https. */
interface FetchedResponse {
  status: number;
  headers: Headers;
  text(): Promise<string>;
}

/** One HTTPS request verified against `ca`, answered like fetch's Response. */
function httpsFetch(
  url: string,
  init: { method: string; headers: Headers; body: string | undefined; ca: string | Buffer },
): Promise<FetchedResponse> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      url,
      { method: init.method, headers: Object.fromEntries(init.headers), ca: init.ca },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          const headers = new Headers();
          for (const [name, value] of Object.entries(res.headers)) {
            if (value !== undefined)
              headers.set(name, Array.isArray(value) ? value.join(', ') : value);
          }
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({ status: res.statusCode ?? 0, headers, text: async () => text });
        });
      },
    );
    req.on('error', reject);
    req.end(init.body);
  });
}
