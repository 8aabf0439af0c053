/**
 * What the permessage-deflate tests of the OpAMP WebSocket share: the agent's offer, a message
 * that compresses like a real result, and a send that waits for the bytes to leave.
 */
import type { WebSocket } from 'ws';

/** The agent's offer (collector-agent AGENT_PER_MESSAGE_DEFLATE): 1 KB windows, no takeover. */
export const AGENT_DEFLATE_OFFER = {
  clientMaxWindowBits: 10,
  serverMaxWindowBits: 10,
  clientNoContextTakeover: true,
  threshold: 1024,
};

/** A process list as an agent sends it (60 entries, several KB): compressed on the wire. */
export const processList = (i: number) =>
  JSON.stringify(
    Array.from({ length: 60 }, (_, n) => ({
      pid: n + i,
      name: `process-${n}`,
      command: `/usr/bin/worker --id ${i}`,
    })),
  );

export function sendAndWait(ws: WebSocket, data: string, options: { fin?: boolean } = {}) {
  return new Promise<void>((resolve, reject) =>
    ws.send(data, options, (error) => (error ? reject(error) : resolve())),
  );
}

/** Polls `condition` for up to 3 s: the server side hears of a message a little later. */
export async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 300 && !condition(); i++) await new Promise((r) => setTimeout(r, 10));
}
