import type { BackendSrvRequest, FetchResponse } from '@grafana/runtime';
import { defer, type Observable, of, throwError } from 'rxjs';

/** What Grafana's backend service rejects with when the server answered an error status. */
export interface HttpFailure {
  status: number;
  statusText?: string;
  data?: unknown;
}

export function problem(status: number, code: string, detail: string): HttpFailure {
  return {
    status,
    statusText: 'Error',
    data: { type: `https://cybercorp.dev/problems/${code}`, title: code, status, detail, code },
  };
}

type Responder = (request: BackendSrvRequest) => unknown;
/** A reply body, or a Responder that computes it from the request (or throws). */
type Answer = unknown;

/**
 * Stands in for Grafana's BackendSrv at the HTTP boundary: answers by "METHOD path" (query string
 * excluded), records every request, and fails loudly on a request nobody expected.
 */
export class FakeBackend {
  readonly requests: BackendSrvRequest[] = [];
  private readonly answers = new Map<string, { answer: Answer; fails: boolean }>();

  reply(method: string, url: string, answer: Answer): this {
    this.answers.set(`${method} ${url}`, { answer, fails: false });
    return this;
  }

  fail(method: string, url: string, failure: HttpFailure): this {
    this.answers.set(`${method} ${url}`, { answer: failure, fails: true });
    return this;
  }

  /** Requests whose method and path match, in order. */
  sent(method: string, url: string): BackendSrvRequest[] {
    return this.requests.filter((r) => (r.method ?? 'GET') === method && r.url === url);
  }

  fetch = <T>(request: BackendSrvRequest): Observable<FetchResponse<T>> =>
    defer(() => {
      this.requests.push(request);
      const key = `${request.method ?? 'GET'} ${request.url}`;
      const entry = this.answers.get(key);
      if (!entry) {
        return throwError(() =>
          problem(599, 'unexpected_request', `the test did not expect ${key}`),
        );
      }
      if (entry.fails) {
        return throwError(() => entry.answer);
      }
      const data =
        typeof entry.answer === 'function' ? (entry.answer as Responder)(request) : entry.answer;
      return of({
        data: data as T,
        status: 200,
        statusText: 'OK',
        ok: true,
        headers: new Headers(),
        redirected: false,
        type: 'basic',
        url: request.url,
        config: request,
      } as FetchResponse<T>);
    });
}
