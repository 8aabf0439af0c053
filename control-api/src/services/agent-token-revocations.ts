import type { Redis } from 'ioredis';
import { z } from 'zod';
import type { Logger } from '../infra/logger.js';

export const REVOCATION_CHANNEL = 'cybercorp:agent-token-revoked';

/** How often live sessions' tokens are checked against the database, for a missed message. */
const RECHECK_INTERVAL_MS = 10_000;

export interface AgentTokenRevocationsDeps {
  instanceId: string;
  /** Publisher and subscriber of a multi-instance API; without them, this instance only. */
  redis?: { client: Redis; subscriber: Redis };
  /** The tokens of the sessions live on this instance, and which of them are revoked by now. */
  liveTokenIds(): string[];
  revokedAmong(tokenIds: readonly string[]): Promise<string[]>;
  logger: Logger;
}

/**
 * Tells every API instance that an agent token was revoked, so that each closes the sessions it
 * holds for it at once. Pub/sub delivers at most once (a subscriber that was reconnecting misses
 * it), so each instance also re-checks its live sessions' tokens now and then.
 */
export class AgentTokenRevocations {
  private readonly listeners: ((tokenId: string) => void)[] = [];
  private recheck: NodeJS.Timeout | undefined;

  constructor(private readonly deps: AgentTokenRevocationsDeps) {}

  onRevoked(listener: (tokenId: string) => void): void {
    this.listeners.push(listener);
  }

  async start(): Promise<void> {
    const { redis } = this.deps;
    if (redis) {
      redis.subscriber.on('message', (channel: string, payload: string) => {
        if (channel !== REVOCATION_CHANNEL) return;
        const message = parse(payload);
        if (!message) {
          this.deps.logger.warn('invalid message on the agent token revocation channel');
          return;
        }
        if (message.originId !== this.deps.instanceId) this.notify(message.tokenId);
      });
      await redis.subscriber.subscribe(REVOCATION_CHANNEL);
    }
    this.recheck = setInterval(() => void this.recheckLiveTokens(), RECHECK_INTERVAL_MS);
    this.recheck.unref();
  }

  stop(): void {
    clearInterval(this.recheck);
  }

  /**
   * Acts on a revocation already stored: here at once, elsewhere through Redis. A failed publish
   * is logged, not thrown: the revocation stands and the other instances find it on recheck.
   */
  async announce(tokenId: string): Promise<void> {
    this.notify(tokenId);
    const { redis } = this.deps;
    if (!redis) return;
    try {
      await redis.client.publish(
        REVOCATION_CHANNEL,
        JSON.stringify({ tokenId, originId: this.deps.instanceId }),
      );
    } catch (error) {
      this.deps.logger.error('could not announce an agent token revocation to other instances', {
        tokenId,
        error: error instanceof Error ? error.message : String(error),
      });
    }
  }

  private notify(tokenId: string): void {
    for (const listener of this.listeners) listener(tokenId);
  }

  private async recheckLiveTokens(): Promise<void> {
    const live = [...new Set(this.deps.liveTokenIds())];
    if (live.length === 0) return;
    try {
      for (const tokenId of await this.deps.revokedAmong(live)) this.notify(tokenId);
    } catch (error) {
      this.deps.logger.warn('could not recheck the agent tokens of live sessions', {
        error: error instanceof Error ? error.message : String(error),
      });
    }
  }
}

const Revocation = z.object({ tokenId: z.uuid(), originId: z.string() });

function parse(payload: string): z.infer<typeof Revocation> | undefined {
  try {
    return Revocation.parse(JSON.parse(payload));
  } catch {
    return undefined;
  }
}
