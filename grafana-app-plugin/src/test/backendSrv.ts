import type { BackendSrv, BackendSrvRequest, FetchError, FetchResponse } from '@grafana/runtime';
import { from, lastValueFrom, type Observable } from 'rxjs';

function urlWithParams(request: BackendSrvRequest): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries((request.params ?? {}) as Record<string, unknown>)) {
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
      params.set(key, String(value));
    }
  }
  const query = params.toString();
  return query === ''
    ? request.url
    : `${request.url}${request.url.includes('?') ? '&' : '?'}${query}`;
}

async function parseBody(response: Response): Promise<unknown> {
  const text = await response.text();
  if (text === '') {
    return undefined;
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

export type Fetch = (url: string, init: RequestInit) => Promise<Response>;

/**
 * Grafana's backend service over a `fetch`: resolves 2xx answers as FetchResponse and rejects
 * everything else as FetchError ({status, data, …}), the way Grafana's own BackendSrv does. The
 * harness page sends through the browser's fetch to its server, which plays Grafana's plugin
 * proxy; the plugin's contract test sends through GrafanaProxyFake.fetch in process.
 */
export class FetchBackendSrv {
  constructor(private readonly send: Fetch = (url, init) => fetch(url, init)) {}

  fetch = <T>(request: BackendSrvRequest): Observable<FetchResponse<T>> =>
    from(this.exchange<T>(request));

  private async exchange<T>(request: BackendSrvRequest): Promise<FetchResponse<T>> {
    const headers: Record<string, string> = { ...(request.headers as Record<string, string>) };
    let body: string | undefined;
    if (request.data !== undefined) {
      headers['Content-Type'] ??= 'application/json';
      body = typeof request.data === 'string' ? request.data : JSON.stringify(request.data);
    }
    const url = urlWithParams(request);
    const response = await this.send(url, {
      method: request.method ?? 'GET',
      headers,
      body,
      credentials: 'same-origin',
    });
    const data = await parseBody(response);
    if (!response.ok) {
      const error: FetchError = {
        status: response.status,
        statusText: response.statusText,
        data,
        config: request,
      };
      throw error;
    }
    return {
      data: data as T,
      status: response.status,
      statusText: response.statusText,
      ok: true,
      headers: response.headers,
      redirected: response.redirected,
      type: response.type,
      url: response.url,
      config: request,
    };
  }

  private call<T>(method: string, url: string, data?: unknown, params?: unknown): Promise<T> {
    return lastValueFrom(this.fetch<T>({ url, method, data, params } as BackendSrvRequest)).then(
      (response) => response.data,
    );
  }

  get = <T>(url: string, params?: unknown) => this.call<T>('GET', url, undefined, params);
  delete = <T>(url: string, data?: unknown) => this.call<T>('DELETE', url, data);
  post = <T>(url: string, data?: unknown) => this.call<T>('POST', url, data);
  patch = <T>(url: string, data?: unknown) => this.call<T>('PATCH', url, data);
  put = <T>(url: string, data?: unknown) => this.call<T>('PUT', url, data);
  request = <T>(request: BackendSrvRequest) =>
    lastValueFrom(this.fetch<T>(request)).then((response) => response.data);

  /** Typed as Grafana's service; the pages only ever call the methods above. */
  asBackendSrv(): BackendSrv {
    return this as unknown as BackendSrv;
  }
}
