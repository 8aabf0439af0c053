import { request } from 'node:http';

export interface TextReply {
  status: number;
  contentType: string;
  body: string;
}

/**
 * A GET on a connection of its own, with headers fetch() might refuse to send (Node answers a
 * header parse error only on a fresh connection).
 */
export function getOnFreshConnection(
  url: string,
  headers: Record<string, string>,
): Promise<TextReply> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent: false, headers });
    req.on('response', (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          contentType: res.headers['content-type'] ?? '',
          body,
        }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}
