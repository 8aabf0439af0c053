/**
 * Reading of the X11 window backend: whether an EWMH window manager runs, and the windows in
 * its `_NET_CLIENT_LIST` as the wire shape. Each read pipelines its requests on the session.
 */
import type { WindowInfo } from '@cybercorp/protocol';
import { WindowControlError, type WindowAvailability } from '../windows.js';
import { XProtocolError } from './connection.js';
import { assessWindowManager, decodeWindowState, type WindowManagerProbe } from './ewmh.js';
import { decodeCard32, decodeCard32List, decodeText, formatWindowId } from './properties.js';
import { describeConnectFailure, type DisplaySession, type Session } from './session.js';

const MAX_TITLE_BYTES = 4096;
const MAX_LIST_BYTES = 4 * 65536;

/** A connected session on a display with an EWMH window manager, or capability_missing. */
export async function openDesktop(display: DisplaySession): Promise<Session> {
  let session: Session;
  try {
    session = await display.open();
  } catch (error) {
    throw new WindowControlError(
      'capability_missing',
      describeConnectFailure(display.display, error),
    );
  }
  const availability = await windowManagerAvailability(session);
  if (!availability.available)
    throw new WindowControlError('capability_missing', availability.reason);
  return session;
}

/** Whether the display has an EWMH window manager the backend can work with, or why not. */
export async function windowManagerAvailability(session: Session): Promise<WindowAvailability> {
  return assessWindowManager(
    await probeWindowManager(session),
    session.atoms,
    session.conn.display,
  );
}

async function probeWindowManager(session: Session): Promise<WindowManagerProbe> {
  const { conn, atoms, byteOrder } = session;
  const [check, supported] = await Promise.all([
    conn.getProperty(conn.root, atoms._NET_SUPPORTING_WM_CHECK, 4),
    conn.getProperty(conn.root, atoms._NET_SUPPORTED, MAX_LIST_BYTES),
  ]);
  const checkWindow = check ? decodeCard32(check.format, check.data, byteOrder) : null;
  let checkWindowSelf: number | null = null;
  if (checkWindow !== null) {
    try {
      const self = await conn.getProperty(checkWindow, atoms._NET_SUPPORTING_WM_CHECK, 4);
      checkWindowSelf = self ? decodeCard32(self.format, self.data, byteOrder) : null;
    } catch (error) {
      // A check window that no longer exists means the window manager has exited.
      if (!(error instanceof XProtocolError && error.windowVanished)) throw error;
    }
  }
  return {
    checkWindow,
    checkWindowSelf,
    supported: supported ? decodeCard32List(supported.format, supported.data, byteOrder) : [],
  };
}

export async function readClientList(session: Session): Promise<number[]> {
  const { conn, atoms, byteOrder } = session;
  const value = await conn.getProperty(conn.root, atoms._NET_CLIENT_LIST, MAX_LIST_BYTES);
  return value ? decodeCard32List(value.format, value.data, byteOrder) : [];
}

export async function readActiveWindow(session: Session): Promise<number | null> {
  const { conn, atoms, byteOrder } = session;
  const value = await conn.getProperty(conn.root, atoms._NET_ACTIVE_WINDOW, 4);
  return value ? decodeCard32(value.format, value.data, byteOrder) : null;
}

export async function readWindows(session: Session): Promise<WindowInfo[]> {
  const [clients, activeWindow] = await Promise.all([
    readClientList(session),
    readActiveWindow(session),
  ]);
  // All windows' requests go out in one pipelined batch: one round trip, not one per window.
  const windows = await Promise.all(clients.map((w) => readWindow(session, w, activeWindow)));
  return windows.filter((w): w is WindowInfo => w !== null);
}

/** One window's description, or null when it vanished while being read. */
export async function readWindow(
  session: Session,
  window: number,
  activeWindow: number | null,
): Promise<WindowInfo | null> {
  const { conn, atoms, byteOrder } = session;
  try {
    const [netName, wmName, pid, state, extents, geometry, origin] = await Promise.all([
      conn.getProperty(window, atoms._NET_WM_NAME, MAX_TITLE_BYTES),
      conn.getProperty(window, atoms.WM_NAME, MAX_TITLE_BYTES),
      conn.getProperty(window, atoms._NET_WM_PID, 4),
      conn.getProperty(window, atoms._NET_WM_STATE, 4 * 64),
      conn.getProperty(window, atoms._NET_FRAME_EXTENTS, 16),
      conn.getGeometry(window),
      conn.originOnRoot(window),
    ]);
    const title = netName
      ? decodeText(netName.format, netName.data, 'utf8')
      : wmName
        ? decodeText(
            wmName.format,
            wmName.data,
            wmName.type === atoms.UTF8_STRING ? 'utf8' : 'latin1',
          )
        : '';
    const [left = 0, right = 0, top = 0, bottom = 0] = extents
      ? decodeCard32List(extents.format, extents.data, byteOrder)
      : [];
    const border = geometry.borderWidth;
    const { minimized, maximized } = decodeWindowState(
      state ? decodeCard32List(state.format, state.data, byteOrder) : [],
      atoms,
    );
    return {
      id: formatWindowId(window),
      title,
      pid: pid ? decodeCard32(pid.format, pid.data, byteOrder) : null,
      // The outer bounds, frame included, as the user sees the window on screen.
      bounds: {
        x: origin.x - border - left,
        y: origin.y - border - top,
        width: geometry.width + 2 * border + left + right,
        height: geometry.height + 2 * border + top + bottom,
      },
      active: window === activeWindow,
      minimized,
      maximized,
    };
  } catch (error) {
    if (error instanceof XProtocolError && error.windowVanished) return null;
    throw error;
  }
}
