import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/**
 * Bytes waiting, unread, in the receive queues of `pid`'s TCP connections to `remotePort`
 * (Linux /proc). A stopped process reads nothing, so what a server sends it piles up here:
 * a test can see that a message reached the process's socket without the process's help.
 */
export function receiveQueueBytes(pid: number, remotePort: number): number {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    let target: string;
    try {
      target = readlinkSync(`/proc/${pid}/fd/${fd}`);
    } catch {
      continue; // closed meanwhile
    }
    const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
    if (inode) inodes.add(inode);
  }
  let queued = 0;
  for (const table of ['tcp', 'tcp6']) {
    const rows = readFileSync(`/proc/${pid}/net/${table}`, 'utf8').trim().split('\n').slice(1);
    for (const row of rows) {
      // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode
      const fields = row.trim().split(/\s+/);
      const port = Number.parseInt(fields[2]?.split(':')[1] ?? '', 16);
      if (port !== remotePort || !inodes.has(fields[9] ?? '')) continue;
      queued += Number.parseInt(fields[4]?.split(':')[1] ?? '0', 16);
    }
  }
  return queued;
}
