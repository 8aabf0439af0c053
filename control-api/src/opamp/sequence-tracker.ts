/**
 * The OpAMP `sequence_num` check: each AgentToServer carries a number one greater than the
 * previous one of the same agent, so a message that does not follow the last one seen here shows
 * that something was lost in between (the spec then requires asking for the full state). The
 * count continues across reconnects and HTTP polls; an agent not seen before by this process has
 * nothing to compare with.
 */
export class SequenceTracker {
  private readonly last = new Map<string, bigint>();

  /** Records the message's number; true when messages were missed before it. */
  follows(agentId: string, sequenceNum: bigint): boolean {
    const previous = this.last.get(agentId);
    this.last.set(agentId, sequenceNum);
    return previous === undefined || sequenceNum === previous + 1n;
  }

  forget(agentId: string): void {
    this.last.delete(agentId);
  }
}
