// A minimal Alertmanager webhook receiver for the compose stack: logs every notification as
// one JSON line on stdout. Replace it (or add receivers in prometheus/alertmanager.yml) with
// your paging or chat integration.
import { createServer } from 'node:http';

const port = Number(process.env.PORT ?? 5001);
const MAX_BODY_BYTES = 1024 * 1024;

createServer((request, response) => {
  if (request.method !== 'POST') {
    response.writeHead(405, { allow: 'POST' }).end();
    return;
  }
  const chunks = [];
  let size = 0;
  request.on('data', (chunk) => {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) request.destroy();
    else chunks.push(chunk);
  });
  request.on('end', () => {
    try {
      const notification = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      console.log(
        JSON.stringify({ path: request.url, receivedAt: new Date().toISOString(), notification }),
      );
      response.writeHead(200).end();
    } catch {
      response.writeHead(400).end();
    }
  });
}).listen(port, '0.0.0.0');
