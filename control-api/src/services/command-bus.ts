import { CommandResult, ControlCommand } from '@cybercorp/protocol';
import type { Redis } from 'ioredis';
import { z } from 'zod';

/** A command another instance asks this one to pass to an agent connected here. */
export const RemoteCommand = z.object({
  kind: z.literal('command'),
  originId: z.string(),
  agentId: z.string(),
  command: ControlCommand,
});
export type RemoteCommand = z.infer<typeof RemoteCommand>;

/** The answer travelling back to the instance that holds the waiting REST call. */
export const RemoteReply = z.union([
  z.object({ kind: z.literal('result'), agentId: z.string(), result: CommandResult }),
  // Never sent to the agent: it was not connected on the owner instance, or the send failed.
  z.object({ kind: z.literal('offline'), agentId: z.string(), commandId: z.string() }),
  // Sent, and the agent's connection ended before it answered.
  z.object({ kind: z.literal('unknown'), agentId: z.string(), commandId: z.string() }),
]);
export type RemoteReply = z.infer<typeof RemoteReply>;

const BusMessage = z.union([RemoteCommand, RemoteReply]);

export interface CommandBusHandlers {
  onCommand(message: RemoteCommand): void;
  onReply(message: RemoteReply): void;
  onInvalid(error: unknown): void;
}

const channelOf = (instanceId: string) => `cybercorp:instance:${instanceId}`;

/** Redis pub/sub between API instances: one channel per instance carries commands and replies. */
export class CommandBus {
  constructor(
    private readonly publisher: Redis,
    private readonly subscriber: Redis,
    private readonly instanceId: string,
  ) {}

  async start(handlers: CommandBusHandlers): Promise<void> {
    const ownChannel = channelOf(this.instanceId);
    this.subscriber.on('message', (channel: string, payload: string) => {
      // The subscriber connection carries other channels too (token invalidations, agent token revocations).
      if (channel !== ownChannel) return;
      let message: z.infer<typeof BusMessage>;
      try {
        message = BusMessage.parse(JSON.parse(payload));
      } catch (error) {
        handlers.onInvalid(error);
        return;
      }
      if (message.kind === 'command') handlers.onCommand(message);
      else handlers.onReply(message);
    });
    await this.subscriber.subscribe(ownChannel);
  }

  /**
   * Whether the instance still listens on its channel. Redis drops a subscription as soon as the
   * subscriber's connection ends, so an instance that was killed stops listening at once.
   */
  async isListening(instanceId: string): Promise<boolean> {
    const reply = (await this.publisher.pubsub('NUMSUB', channelOf(instanceId))) as [
      string,
      number,
    ];
    return Number(reply[1]) > 0;
  }

  /** Resolves to the number of instances that received it (0: the owner is gone). */
  async send(toInstanceId: string, message: RemoteCommand | RemoteReply): Promise<number> {
    return this.publisher.publish(channelOf(toInstanceId), JSON.stringify(message));
  }
}
