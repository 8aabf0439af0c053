import type { Redis } from 'ioredis';
import { z } from 'zod';
import type { TokenValidity } from '../auth/token-validity.js';
import type { Clock } from '../infra/clock.js';
import type { Logger } from '../infra/logger.js';

/** The channel every instance listens on for changes that end access tokens. */
export const TOKEN_INVALIDATION_CHANNEL = 'cybercorp:token-invalidations';

const Invalidation = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('user'), originId: z.string(), userId: z.string() }),
  z.object({
    kind: z.literal('session'),
    originId: z.string(),
    sessionId: z.string(),
    at: z.number(),
  }),
]);
type Invalidation = z.infer<typeof Invalidation>;

/** What the services report once a change that ends access tokens is committed. */
export interface TokenInvalidations {
  /** The user was disabled, deleted, or changed role or password. */
  userChanged(userId: string): Promise<void>;
  /** The session (refresh-token family) was revoked: logout, or a reused refresh token. */
  sessionEnded(sessionId: string): Promise<void>;
}

/**
 * Applies invalidations to this instance's token checks at once, and publishes them through
 * Redis (when configured) so that every other instance refuses the tokens within milliseconds.
 * A publish that fails is logged and not retried: the other instances re-read the database
 * within seconds anyway (token-validity.ts), and the change itself is already committed.
 */
export class TokenInvalidationBus implements TokenInvalidations {
  constructor(
    private readonly deps: {
      validity: TokenValidity;
      instanceId: string;
      clock: Clock;
      logger: Logger;
      redis?: { client: Redis; subscriber: Redis };
    },
  ) {}

  async start(): Promise<void> {
    const { redis, validity, logger, instanceId } = this.deps;
    if (!redis) return;
    redis.subscriber.on('message', (channel: string, payload: string) => {
      if (channel !== TOKEN_INVALIDATION_CHANNEL) return;
      let message: Invalidation;
      try {
        message = Invalidation.parse(JSON.parse(payload));
      } catch (error) {
        logger.warn('invalid message on the token invalidation channel', { error });
        return;
      }
      if (message.originId === instanceId) return;
      if (message.kind === 'user') validity.userChanged(message.userId);
      else validity.sessionEnded(message.sessionId, message.at);
    });
    await redis.subscriber.subscribe(TOKEN_INVALIDATION_CHANNEL);
    // Messages published while the subscriber was disconnected are lost for good: after a
    // reconnection, everything remembered is read again.
    redis.subscriber.on('ready', () => {
      logger.warn('redis subscriber reconnected; re-reading users and sessions of access tokens');
      validity.forgetAll();
    });
  }

  async userChanged(userId: string): Promise<void> {
    this.deps.validity.userChanged(userId);
    await this.publish({ kind: 'user', originId: this.deps.instanceId, userId });
  }

  async sessionEnded(sessionId: string): Promise<void> {
    const at = this.deps.clock.now();
    this.deps.validity.sessionEnded(sessionId, at);
    await this.publish({ kind: 'session', originId: this.deps.instanceId, sessionId, at });
  }

  private async publish(message: Invalidation): Promise<void> {
    const { redis, logger } = this.deps;
    if (!redis) return;
    try {
      await redis.client.publish(TOKEN_INVALIDATION_CHANNEL, JSON.stringify(message));
    } catch (error) {
      logger.warn(
        'cannot publish a token invalidation; other instances catch up from the database',
        {
          kind: message.kind,
          error: error instanceof Error ? error.message : String(error),
        },
      );
    }
  }
}
