/**
 * What a message's sighting needs written: nothing (a repeat within the refresh interval), only
 * `lastSeenAt` (`touch`: the row holds everything else already) or the whole row (`upsert`).
 */
export type SightingWrite = 'none' | 'touch' | 'upsert';

/**
 * Decides which agent messages are written through to the agent's row and presence. Every
 * message proves the agent alive, but a chatty agent (a result per command) would otherwise
 * cost a database write and a presence write per message. A message that brings nothing new —
 * no description, no capabilities, same connection and token — within `refreshMs` of the last
 * write is not written again; `lastSeenAt` and the presence TTL are then at most `refreshMs`
 * behind, which is far below the heartbeat interval.
 */
export class SightingThrottle {
  private readonly written = new Map<string, { key: string; atMs: number }>();

  constructor(private readonly refreshMs: number) {}

  /**
   * `key` stands for everything the write stores besides the time; `news` is set when the
   * message carries something the row lacks (a first message, a description, capabilities).
   */
  decide(agentId: string, key: string, atMs: number, news: boolean): SightingWrite {
    const last = this.written.get(agentId);
    if (news || last === undefined || last.key !== key) return 'upsert';
    return atMs - last.atMs >= this.refreshMs ? 'touch' : 'none';
  }

  /** Called once the write succeeded. */
  wrote(agentId: string, key: string, atMs: number): void {
    const last = this.written.get(agentId);
    // Updated in place: one entry per agent for its whole connection, not one per heartbeat.
    if (last?.key === key) last.atMs = atMs;
    else this.written.set(agentId, { key, atMs });
  }

  forget(agentId: string): void {
    this.written.delete(agentId);
  }
}
