import type { ControlCommand } from '@cybercorp/protocol';

/** What the relay needs from a live agent connection on this instance. */
export interface CommandChannel {
  readonly connectionId: string;
  /**
   * The custom capabilities the agent reported on this connection, once they are on record;
   * undefined until then.
   */
  readonly customCapabilities: readonly string[] | undefined;
  /**
   * False when the command could not be written (no open socket). `onUnsent` is called if the
   * write fails afterwards, e.g. the socket closed while the frame was being compressed.
   */
  sendCommand(command: ControlCommand, onUnsent?: () => void): boolean;
  close(code: number, reason: string, metricReason?: string): void;
}

/** Agents whose WebSocket is open on this instance, by agent id. */
export class ConnectionRegistry {
  private readonly byAgent = new Map<string, CommandChannel>();

  /** Binds the agent to this channel, returning the channel it replaces (if any). */
  attach(agentId: string, channel: CommandChannel): CommandChannel | undefined {
    const previous = this.byAgent.get(agentId);
    this.byAgent.set(agentId, channel);
    return previous === channel ? undefined : previous;
  }

  /** Unbinds only if the agent is still bound to this channel; returns whether it was. */
  detach(agentId: string, channel: CommandChannel): boolean {
    if (this.byAgent.get(agentId) !== channel) return false;
    this.byAgent.delete(agentId);
    return true;
  }

  get(agentId: string): CommandChannel | undefined {
    return this.byAgent.get(agentId);
  }

  send(agentId: string, command: ControlCommand, onUnsent?: () => void): boolean {
    return this.byAgent.get(agentId)?.sendCommand(command, onUnsent) ?? false;
  }

  get size(): number {
    return this.byAgent.size;
  }
}
