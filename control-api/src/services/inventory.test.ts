import type { WindowEvent, WindowInfo } from '@cybercorp/protocol';
import { describe, expect, it } from 'vitest';
import type { InventoryRepository, WindowSnapshot } from '../repositories/inventory.js';
import { recordingLogger } from '../test-support/recording-logger.js';
import { Inventory } from './inventory.js';

const windowOf = (id: string, title: string): WindowInfo => ({
  id,
  title,
  pid: 4242,
  bounds: { x: 0, y: 0, width: 640, height: 480 },
  active: true,
  minimized: false,
  maximized: false,
});
const eventOf = (windows: WindowInfo[]): WindowEvent => ({
  type: 'window.event',
  change: 'snapshot',
  windows,
  at: 999_000,
});

/**
 * An inventory over a repository whose first window write waits for the test (`release`), and
 * which refuses a title with NUL as PostgreSQL does (SQLSTATE 22021), the whole statement.
 */
function inventoryWithHeldWrite() {
  let release!: () => void;
  let held: Promise<void> | undefined = new Promise<void>((resolve) => (release = resolve));
  const statements: string[][] = [];
  const kept: WindowSnapshot[] = [];
  const repository = {
    insertWindows: async (snapshots: WindowSnapshot[]) => {
      statements.push(snapshots.map((s) => s.agentId));
      const wait = held;
      held = undefined;
      await wait;
      if (snapshots.some((s) => s.windows.some((w) => w.title.includes('\u0000')))) {
        throw Object.assign(new Error('invalid byte sequence for encoding "UTF8": 0x00'), {
          code: '22021',
        });
      }
      kept.push(...snapshots);
    },
  } as unknown as InventoryRepository;
  const logger = recordingLogger();
  const inventory = new Inventory(repository, 60, { now: () => 1_000_000 }, logger);
  return { inventory, release, statements, kept, logger };
}

describe('Inventory: window lists', () => {
  it('writes the lists of a burst together, and one the database refuses costs only its own agent', async () => {
    const { inventory, release, statements, kept, logger } = inventoryWithHeldWrite();
    inventory.observeWindows('a1', eventOf([windowOf('w1', 'xterm')]));
    inventory.observeWindows('a2', eventOf([windowOf('w2', 'editor')]));
    inventory.observeWindows('a3', eventOf([windowOf('w3', 'bad\u0000title')]));
    inventory.observeWindows('a4', eventOf([windowOf('w4', 'mail')]));
    release();
    await inventory.written();

    expect(statements).toEqual([['a1'], ['a2', 'a3', 'a4'], ['a2'], ['a3'], ['a4']]);
    expect(kept.map((s) => s.agentId)).toEqual(['a1', 'a2', 'a4']);
    expect(logger.lines.map((line) => JSON.parse(line) as unknown)).toEqual([
      expect.objectContaining({
        message: 'a window snapshot was not kept in the inventory',
        agentId: 'a3',
      }),
    ]);
  });

  it('keeps two lists of one agent within one millisecond as two snapshots, the later one after', async () => {
    const { inventory, release, kept } = inventoryWithHeldWrite();
    release();
    inventory.observeWindows('a1', eventOf([windowOf('w1', 'xterm')]));
    inventory.observeWindows('a1', eventOf([windowOf('w1', 'xterm'), windowOf('w2', 'editor')]));
    inventory.observeWindows('a2', eventOf([]));
    await inventory.written();

    expect(kept.map((s) => [s.agentId, s.at.getTime(), s.windows.length])).toEqual([
      ['a1', 1_000_000, 1],
      ['a1', 1_000_001, 2],
      ['a2', 1_000_000, 0],
    ]);
  });
});
