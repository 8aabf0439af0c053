// Loopback ports for the benches: a free one to hand a child, and waiting until a child listens.
import { once } from 'node:events';
import { connect, createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/** A port on 127.0.0.1 that nothing listened on a moment ago (bound, read, released). */
export async function freeLoopbackPort() {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address();
  server.close();
  await once(server, 'close');
  return port;
}

/** Whether something accepts a TCP connection on 127.0.0.1:`port` now. */
function accepts(port) {
  return new Promise((done) => {
    const socket = connect({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      done(true);
    });
    socket.once('error', () => done(false));
  });
}

/**
 * Resolves once something accepts connections on 127.0.0.1:`port`; rejects, naming `what`, when
 * nothing has within `timeoutMs`.
 */
export async function waitForPort(port, what, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await accepts(port)) return;
    if (Date.now() > deadline)
      throw new Error(`${what} did not listen on 127.0.0.1:${port} within ${timeoutMs / 1000} s`);
    await sleep(50);
  }
}
