import type { Redis } from 'ioredis';
import type { Clock } from '../infra/clock.js';
import { fromRedis } from '../infra/redis.js';

export type Transport = 'websocket' | 'http';

export interface PresenceInfo {
  /** The API instance holding the agent's connection (the one that can send it commands). */
  instanceId: string;
  connectionId: string;
  transport: Transport;
}

/**
 * Who is online. An agent is online while its presence entry lives: every message from it
 * renews the entry for two heartbeat intervals, and a closed socket removes it at once.
 */
export interface Presence {
  markSeen(agentId: string, info: PresenceInfo, ttlMs: number): Promise<void>;
  /** Removes the entry only if it still belongs to this connection (a newer one may exist). */
  markGone(agentId: string, connectionId: string): Promise<void>;
  lookup(agentId: string): Promise<PresenceInfo | null>;
  lookupMany(agentIds: readonly string[]): Promise<Map<string, PresenceInfo>>;
}

export class InMemoryPresence implements Presence {
  private readonly entries = new Map<string, { info: PresenceInfo; expiresAt: number }>();

  constructor(private readonly clock: Clock) {}

  async markSeen(agentId: string, info: PresenceInfo, ttlMs: number): Promise<void> {
    this.entries.set(agentId, { info, expiresAt: this.clock.now() + ttlMs });
  }

  async markGone(agentId: string, connectionId: string): Promise<void> {
    if (this.entries.get(agentId)?.info.connectionId === connectionId) this.entries.delete(agentId);
  }

  async lookup(agentId: string): Promise<PresenceInfo | null> {
    const entry = this.entries.get(agentId);
    if (!entry) return null;
    if (entry.expiresAt <= this.clock.now()) {
      this.entries.delete(agentId);
      return null;
    }
    return entry.info;
  }

  async lookupMany(agentIds: readonly string[]): Promise<Map<string, PresenceInfo>> {
    const found = new Map<string, PresenceInfo>();
    for (const id of agentIds) {
      const info = await this.lookup(id);
      if (info) found.set(id, info);
    }
    return found;
  }
}

const KEY_PREFIX = 'cybercorp:presence:';
const DELETE_IF_OWNED = `
local current = redis.call('GET', KEYS[1])
if current and cjson.decode(current).connectionId == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0`;

/**
 * Presence shared by every instance through Redis keys with a TTL. Without Redis every call fails
 * with RedisUnavailableError: nobody can say where an agent is connected.
 */
export class RedisPresence implements Presence {
  constructor(private readonly redis: Redis) {}

  async markSeen(agentId: string, info: PresenceInfo, ttlMs: number): Promise<void> {
    await fromRedis(
      this.redis.set(
        KEY_PREFIX + agentId,
        JSON.stringify(info),
        'PX',
        Math.max(1, Math.round(ttlMs)),
      ),
    );
  }

  async markGone(agentId: string, connectionId: string): Promise<void> {
    await fromRedis(this.redis.eval(DELETE_IF_OWNED, 1, KEY_PREFIX + agentId, connectionId));
  }

  async lookup(agentId: string): Promise<PresenceInfo | null> {
    return parse(await fromRedis(this.redis.get(KEY_PREFIX + agentId)));
  }

  async lookupMany(agentIds: readonly string[]): Promise<Map<string, PresenceInfo>> {
    const found = new Map<string, PresenceInfo>();
    if (agentIds.length === 0) return found;
    const values = await fromRedis(this.redis.mget(agentIds.map((id) => KEY_PREFIX + id)));
    agentIds.forEach((id, i) => {
      const info = parse(values[i] ?? null);
      if (info) found.set(id, info);
    });
    return found;
  }
}

function parse(value: string | null): PresenceInfo | null {
  if (!value) return null;
  const info = JSON.parse(value) as PresenceInfo;
  return typeof info.instanceId === 'string' ? info : null;
}
