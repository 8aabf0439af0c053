/**
 * Turns two successive window lists into change-feed events. Pure; the feed calls it after
 * each debounced re-list.
 */
import type { WindowInfo } from '@cybercorp/protocol';
import type { WindowChange } from './windows.js';

export interface WindowListChange {
  change: Exclude<WindowChange, 'snapshot'>;
  windowId?: string;
}

function sameWindow(a: WindowInfo, b: WindowInfo): boolean {
  return (
    a.title === b.title &&
    a.pid === b.pid &&
    a.minimized === b.minimized &&
    a.maximized === b.maximized &&
    a.bounds.x === b.bounds.x &&
    a.bounds.y === b.bounds.y &&
    a.bounds.width === b.bounds.width &&
    a.bounds.height === b.bounds.height
  );
}

/** Removed, then added, then changed windows, then a focus change (with the new active id). */
export function diffWindowLists(
  previous: readonly WindowInfo[],
  next: readonly WindowInfo[],
): WindowListChange[] {
  const before = new Map(previous.map((w) => [w.id, w]));
  const after = new Map(next.map((w) => [w.id, w]));
  const changes: WindowListChange[] = [];
  for (const id of before.keys())
    if (!after.has(id)) changes.push({ change: 'removed', windowId: id });
  for (const id of after.keys())
    if (!before.has(id)) changes.push({ change: 'added', windowId: id });
  for (const [id, w] of after) {
    const old = before.get(id);
    if (old && !sameWindow(old, w)) changes.push({ change: 'changed', windowId: id });
  }
  const activeBefore = previous.find((w) => w.active)?.id;
  const activeAfter = next.find((w) => w.active)?.id;
  if (activeBefore !== activeAfter) {
    changes.push(
      activeAfter === undefined
        ? { change: 'active' }
        : { change: 'active', windowId: activeAfter },
    );
  }
  return changes;
}
