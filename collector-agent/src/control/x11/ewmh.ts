/**
 * The EWMH / ICCCM conventions the backend relies on: which atoms it needs, how window state
 * is read from `_NET_WM_STATE`, which client messages ask the window manager for each action,
 * and how to tell whether an EWMH window manager is running. Pure: no I/O here.
 */
import type { WindowAction, WindowInfo } from '@cybercorp/protocol';
import type { WindowAvailability } from '../windows.js';

export const ATOM_NAMES = [
  'WM_NAME',
  'UTF8_STRING',
  'WM_CHANGE_STATE',
  '_NET_SUPPORTED',
  '_NET_SUPPORTING_WM_CHECK',
  '_NET_CLIENT_LIST',
  '_NET_ACTIVE_WINDOW',
  '_NET_CLOSE_WINDOW',
  '_NET_WM_NAME',
  '_NET_WM_PID',
  '_NET_WM_STATE',
  '_NET_WM_STATE_HIDDEN',
  '_NET_WM_STATE_MAXIMIZED_VERT',
  '_NET_WM_STATE_MAXIMIZED_HORZ',
  '_NET_FRAME_EXTENTS',
] as const;

export type AtomName = (typeof ATOM_NAMES)[number];
export type Atoms = Record<AtomName, number>;

/** EWMH `_NET_WM_STATE` message actions. */
const STATE_REMOVE = 0;
const STATE_ADD = 1;
/** EWMH source indication: the request comes from a pager/taskbar-like tool, not the app. */
const SOURCE_PAGER = 2;
/** ICCCM 4.1.4: WM_CHANGE_STATE with IconicState asks for the window to be iconified. */
const ICONIC_STATE = 3;
const CURRENT_TIME = 0;

export interface WindowState {
  minimized: boolean;
  maximized: boolean;
}

export function decodeWindowState(stateAtoms: readonly number[], atoms: Atoms): WindowState {
  const has = (atom: number) => stateAtoms.includes(atom);
  return {
    minimized: has(atoms._NET_WM_STATE_HIDDEN),
    maximized: has(atoms._NET_WM_STATE_MAXIMIZED_VERT) && has(atoms._NET_WM_STATE_MAXIMIZED_HORZ),
  };
}

export interface ClientMessage {
  type: number;
  data: number[];
}

/** The messages, in order, that ask the window manager to perform `action` on a window. */
export function messagesFor(
  action: WindowAction,
  current: { minimized: boolean; activeWindow: number | null },
  atoms: Atoms,
): ClientMessage[] {
  const activate: ClientMessage = {
    type: atoms._NET_ACTIVE_WINDOW,
    data: [SOURCE_PAGER, CURRENT_TIME, current.activeWindow ?? 0],
  };
  const maximized = (mode: number): ClientMessage => ({
    type: atoms._NET_WM_STATE,
    data: [
      mode,
      atoms._NET_WM_STATE_MAXIMIZED_VERT,
      atoms._NET_WM_STATE_MAXIMIZED_HORZ,
      SOURCE_PAGER,
    ],
  });
  switch (action) {
    case 'focus':
      return [activate];
    case 'minimize':
      return [{ type: atoms.WM_CHANGE_STATE, data: [ICONIC_STATE] }];
    case 'maximize':
      return [maximized(STATE_ADD)];
    case 'restore':
      // Restore means "back to a normal window": un-maximize, and map an iconified one again,
      // which in EWMH is done by activating it.
      return current.minimized ? [maximized(STATE_REMOVE), activate] : [maximized(STATE_REMOVE)];
    case 'close':
      return [{ type: atoms._NET_CLOSE_WINDOW, data: [CURRENT_TIME, SOURCE_PAGER] }];
  }
}

/**
 * Whether the window now shows the effect of `action`. `close` is never awaited: the
 * application may legitimately ask the user first, so only delivery is guaranteed.
 */
export function actionApplied(action: WindowAction, window: WindowInfo | undefined): boolean {
  if (action === 'close') return true;
  if (!window) return false;
  switch (action) {
    case 'focus':
      return window.active;
    case 'minimize':
      return window.minimized;
    case 'maximize':
      return window.maximized;
    case 'restore':
      return !window.minimized && !window.maximized;
  }
}

/** EWMH 3.1/3.2: what the root and the WM's check window say about the running window manager. */
export interface WindowManagerProbe {
  /** `_NET_SUPPORTING_WM_CHECK` on the root. */
  checkWindow: number | null;
  /** `_NET_SUPPORTING_WM_CHECK` on that check window: must point at itself. */
  checkWindowSelf: number | null;
  supported: readonly number[];
}

export function assessWindowManager(
  probe: WindowManagerProbe,
  atoms: Atoms,
  display: string,
): WindowAvailability {
  if (probe.checkWindow === null) {
    return {
      available: false,
      reason: `no EWMH window manager on X display ${display} (_NET_SUPPORTING_WM_CHECK unset on the root window)`,
    };
  }
  if (probe.checkWindowSelf !== probe.checkWindow) {
    return {
      available: false,
      reason: `no EWMH window manager on X display ${display} (stale _NET_SUPPORTING_WM_CHECK: the window manager has exited)`,
    };
  }
  if (!probe.supported.includes(atoms._NET_CLIENT_LIST)) {
    return {
      available: false,
      reason: `the window manager on X display ${display} does not support _NET_CLIENT_LIST`,
    };
  }
  return { available: true };
}
