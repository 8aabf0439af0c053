import { describe, expect, it } from 'vitest';
import { InMemoryPresence } from './presence.js';

describe('InMemoryPresence', () => {
  it('keeps an agent online until its entry expires', async () => {
    const clock = { t: 0, now: () => clock.t };
    const presence = new InMemoryPresence(clock);
    const info = { instanceId: 'i1', connectionId: 'c1', transport: 'websocket' as const };
    await presence.markSeen('a1', info, 2000);
    expect(await presence.lookup('a1')).toEqual(info);
    clock.t = 1999;
    expect((await presence.lookupMany(['a1', 'a2'])).size).toBe(1);
    clock.t = 2000;
    expect(await presence.lookup('a1')).toBeNull();
  });

  it('removes an entry only for the connection that owns it', async () => {
    const clock = { t: 0, now: () => clock.t };
    const presence = new InMemoryPresence(clock);
    await presence.markSeen(
      'a1',
      { instanceId: 'i1', connectionId: 'new', transport: 'websocket' },
      1000,
    );
    await presence.markGone('a1', 'old');
    expect(await presence.lookup('a1')).not.toBeNull();
    await presence.markGone('a1', 'new');
    expect(await presence.lookup('a1')).toBeNull();
  });
});
