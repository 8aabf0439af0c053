import { describe, expect, it } from 'vitest';
import type { WindowInfo } from '@cybercorp/protocol';
import { diffWindowLists } from './window-diff.js';

function win(id: string, overrides: Partial<WindowInfo> = {}): WindowInfo {
  return {
    id,
    title: `title ${id}`,
    pid: 100,
    bounds: { x: 10, y: 20, width: 300, height: 200 },
    active: false,
    minimized: false,
    maximized: false,
    ...overrides,
  };
}

describe('diffWindowLists', () => {
  it('reports nothing for identical lists', () => {
    expect(diffWindowLists([win('0x1'), win('0x2')], [win('0x1'), win('0x2')])).toEqual([]);
  });

  it('reports added and removed windows', () => {
    expect(diffWindowLists([win('0x1'), win('0x2')], [win('0x2'), win('0x3')])).toEqual([
      { change: 'removed', windowId: '0x1' },
      { change: 'added', windowId: '0x3' },
    ]);
  });

  it('reports state, title and geometry changes as changed', () => {
    const before = [win('0x1'), win('0x2'), win('0x3'), win('0x4')];
    const after = [
      win('0x1', { minimized: true }),
      win('0x2', { title: 'renamed' }),
      win('0x3', { bounds: { x: 10, y: 20, width: 301, height: 200 } }),
      win('0x4'),
    ];
    expect(diffWindowLists(before, after)).toEqual([
      { change: 'changed', windowId: '0x1' },
      { change: 'changed', windowId: '0x2' },
      { change: 'changed', windowId: '0x3' },
    ]);
  });

  it('reports a focus move once, as active, not as two changes', () => {
    const before = [win('0x1', { active: true }), win('0x2')];
    const after = [win('0x1'), win('0x2', { active: true })];
    expect(diffWindowLists(before, after)).toEqual([{ change: 'active', windowId: '0x2' }]);
  });

  it('reports focus leaving every window without an id', () => {
    expect(diffWindowLists([win('0x1', { active: true })], [win('0x1')])).toEqual([
      { change: 'active' },
    ]);
  });

  it('reports a new window that takes focus as added then active', () => {
    expect(
      diffWindowLists([win('0x1', { active: true })], [win('0x1'), win('0x2', { active: true })]),
    ).toEqual([
      { change: 'added', windowId: '0x2' },
      { change: 'active', windowId: '0x2' },
    ]);
  });
});
