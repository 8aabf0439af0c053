import { describe, expect, it } from 'vitest';
import type { WindowInfo } from '@cybercorp/protocol';
import {
  ATOM_NAMES,
  actionApplied,
  assessWindowManager,
  decodeWindowState,
  messagesFor,
  type Atoms,
} from './ewmh.js';

// Literal atom numbers, as a server might hand them out.
const atoms = Object.fromEntries(ATOM_NAMES.map((name, i) => [name, 300 + i])) as Atoms;

const window: WindowInfo = {
  id: '0x40000c',
  title: 't',
  pid: 42,
  bounds: { x: 0, y: 0, width: 10, height: 10 },
  active: false,
  minimized: false,
  maximized: false,
};

describe('decodeWindowState', () => {
  it('reads hidden as minimized', () => {
    expect(decodeWindowState([atoms._NET_WM_STATE_HIDDEN], atoms)).toEqual({
      minimized: true,
      maximized: false,
    });
  });

  it('counts as maximized only when both directions are', () => {
    expect(decodeWindowState([atoms._NET_WM_STATE_MAXIMIZED_VERT], atoms).maximized).toBe(false);
    expect(
      decodeWindowState(
        [atoms._NET_WM_STATE_MAXIMIZED_HORZ, 999, atoms._NET_WM_STATE_MAXIMIZED_VERT],
        atoms,
      ),
    ).toEqual({ minimized: false, maximized: true });
  });
});

describe('messagesFor', () => {
  it('focus activates with pager source indication and the current active window', () => {
    expect(messagesFor('focus', { minimized: false, activeWindow: 0x500001 }, atoms)).toEqual([
      { type: atoms._NET_ACTIVE_WINDOW, data: [2, 0, 0x500001] },
    ]);
  });

  it('minimize asks for IconicState through WM_CHANGE_STATE', () => {
    expect(messagesFor('minimize', { minimized: false, activeWindow: null }, atoms)).toEqual([
      { type: atoms.WM_CHANGE_STATE, data: [3] },
    ]);
  });

  it('maximize adds both maximized states', () => {
    expect(messagesFor('maximize', { minimized: false, activeWindow: null }, atoms)).toEqual([
      {
        type: atoms._NET_WM_STATE,
        data: [1, atoms._NET_WM_STATE_MAXIMIZED_VERT, atoms._NET_WM_STATE_MAXIMIZED_HORZ, 2],
      },
    ]);
  });

  it('restore removes maximized, and activates a minimized window', () => {
    const unmaximize = {
      type: atoms._NET_WM_STATE,
      data: [0, atoms._NET_WM_STATE_MAXIMIZED_VERT, atoms._NET_WM_STATE_MAXIMIZED_HORZ, 2],
    };
    expect(messagesFor('restore', { minimized: false, activeWindow: null }, atoms)).toEqual([
      unmaximize,
    ]);
    expect(messagesFor('restore', { minimized: true, activeWindow: null }, atoms)).toEqual([
      unmaximize,
      { type: atoms._NET_ACTIVE_WINDOW, data: [2, 0, 0] },
    ]);
  });

  it('close sends _NET_CLOSE_WINDOW', () => {
    expect(messagesFor('close', { minimized: false, activeWindow: null }, atoms)).toEqual([
      { type: atoms._NET_CLOSE_WINDOW, data: [0, 2] },
    ]);
  });
});

describe('actionApplied', () => {
  it('checks the state each action should leave', () => {
    expect(actionApplied('focus', { ...window, active: true })).toBe(true);
    expect(actionApplied('focus', window)).toBe(false);
    expect(actionApplied('minimize', { ...window, minimized: true })).toBe(true);
    expect(actionApplied('maximize', window)).toBe(false);
    expect(actionApplied('restore', { ...window, maximized: true })).toBe(false);
    expect(actionApplied('restore', window)).toBe(true);
    expect(actionApplied('maximize', undefined)).toBe(false);
  });

  it('does not wait for close, which the application may answer with a prompt', () => {
    expect(actionApplied('close', window)).toBe(true);
  });
});

describe('assessWindowManager', () => {
  const supported = [atoms._NET_CLIENT_LIST, atoms._NET_ACTIVE_WINDOW];

  it('accepts a live EWMH window manager', () => {
    expect(
      assessWindowManager({ checkWindow: 7, checkWindowSelf: 7, supported }, atoms, ':5'),
    ).toEqual({
      available: true,
    });
  });

  it('explains a display without a window manager', () => {
    const result = assessWindowManager(
      { checkWindow: null, checkWindowSelf: null, supported: [] },
      atoms,
      ':5',
    );
    expect(result).toEqual({
      available: false,
      reason: expect.stringContaining('no EWMH window manager on X display :5'),
    });
  });

  it('detects a stale check window left by an exited window manager', () => {
    const result = assessWindowManager(
      { checkWindow: 7, checkWindowSelf: null, supported },
      atoms,
      ':5',
    );
    expect(result).toMatchObject({ available: false, reason: expect.stringContaining('stale') });
  });

  it('requires _NET_CLIENT_LIST support', () => {
    const result = assessWindowManager(
      { checkWindow: 7, checkWindowSelf: 7, supported: [atoms._NET_ACTIVE_WINDOW] },
      atoms,
      ':5',
    );
    expect(result).toMatchObject({
      available: false,
      reason: expect.stringContaining('_NET_CLIENT_LIST'),
    });
  });
});
