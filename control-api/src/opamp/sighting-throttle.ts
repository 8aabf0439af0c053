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
  mustWrite(agentId: string, key: string, atMs: number, news: boolean): boolean {
    if (news) return true;
    const last = this.written.get(agentId);
    return last === undefined || last.key !== key || atMs - last.atMs >= this.refreshMs;
  }

  /** Whether the row already holds everything but the time: only `lastSeenAt` would change. */
  isCurrent(agentId: string, key: string): boolean {
    return this.written.get(agentId)?.key === key;
  }

  /** Called once the write succeeded. */
  wrote(agentId: string, key: string, atMs: number): void {
    this.written.set(agentId, { key, atMs });
  }

  forget(agentId: string): void {
    this.written.delete(agentId);
  }
}
