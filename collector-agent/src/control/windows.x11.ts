/**
 * Desktop windows on Linux/BSD: EWMH over the X protocol itself (the pure-JS `x11` package),
 * with one X connection per controller. Lists come from the window manager's
 * `_NET_CLIENT_LIST`; actions are the client messages an EWMH window manager obeys; the change
 * feed follows PropertyNotify/ConfigureNotify events and re-lists, debounced.
 */
import type { WindowAction, WindowInfo } from '@cybercorp/protocol';
import {
  WindowControlError,
  type WindowAvailability,
  type WindowChangeEvent,
  type WindowController,
} from './windows.js';
import { XConnection, XConnectionError, XProtocolError } from './x11/connection.js';
import type { XRawEvent } from './x11/x11-api.js';
import {
  ATOM_NAMES,
  actionApplied,
  assessWindowManager,
  decodeWindowState,
  messagesFor,
  type Atoms,
  type WindowManagerProbe,
} from './x11/ewmh.js';
import {
  decodeCard32,
  decodeCard32List,
  decodeText,
  formatWindowId,
  parseWindowId,
  type ByteOrder,
} from './x11/properties.js';
import { diffWindowLists } from './x11/window-diff.js';

export interface X11WindowControllerOptions {
  /** X display such as `:0`; defaults to `$DISPLAY` when the controller is created. */
  display?: string;
  /** Give up connecting after this long (default 3000 ms). */
  connectTimeoutMs?: number;
  /** Quiet time before the change feed re-lists after X events (default 50 ms). */
  debounceMs?: number;
  /** How long `act()` waits for the window manager to show the effect (default 2000 ms). */
  confirmTimeoutMs?: number;
  /** Errors of the background change feed, which has no caller to throw to (default: console.error). */
  onFeedError?: (error: Error) => void;
}

interface Session {
  conn: XConnection;
  atoms: Atoms;
  byteOrder: ByteOrder;
}

interface Feed {
  session: Session;
  known: WindowInfo[];
  /** Client windows whose events we selected. */
  selected: Set<number>;
  /** The first full list has been read and announced as a snapshot. */
  ready: boolean;
  stopEvents: () => void;
}

const MAX_TITLE_BYTES = 4096;
const MAX_LIST_BYTES = 4 * 65536;
const CONFIRM_POLL_MS = 20;

export class X11WindowController implements WindowController {
  private readonly display: string | undefined;
  private readonly connectTimeoutMs: number;
  private readonly debounceMs: number;
  private readonly confirmTimeoutMs: number;
  private readonly onFeedError: (error: Error) => void;

  private sessionPromise: Promise<Session> | null = null;
  private closed = false;
  private readonly listeners = new Set<(event: WindowChangeEvent) => void>();
  private feed: Feed | null = null;
  private feedStarting: Promise<void> | null = null;
  private debounceTimer: NodeJS.Timeout | null = null;
  private refreshing: Promise<void> | null = null;
  private refreshAgain = false;

  constructor(options: X11WindowControllerOptions = {}) {
    const display = options.display ?? process.env.DISPLAY;
    this.display = display === '' ? undefined : display;
    this.connectTimeoutMs = options.connectTimeoutMs ?? 3000;
    this.debounceMs = options.debounceMs ?? 50;
    this.confirmTimeoutMs = options.confirmTimeoutMs ?? 2000;
    this.onFeedError =
      options.onFeedError ?? ((error) => console.error(`window change feed: ${error.message}`));
  }

  async availability(): Promise<WindowAvailability> {
    if (this.closed) return { available: false, reason: 'the window controller is closed' };
    let session: Session;
    try {
      session = await this.session();
    } catch (error) {
      return { available: false, reason: describeConnectFailure(this.display, error) };
    }
    const availability = assessWindowManager(
      await this.probeWindowManager(session),
      session.atoms,
      session.conn.display,
    );
    if (availability.available) this.resumeFeed();
    return availability;
  }

  async list(): Promise<WindowInfo[]> {
    const session = await this.desktopSession();
    try {
      return await this.readWindows(session);
    } catch (error) {
      if (error instanceof XConnectionError) throw lostDisplay(error);
      throw error;
    }
  }

  async act(windowId: string, action: WindowAction): Promise<void> {
    const window = parseWindowId(windowId);
    if (window === null)
      throw new WindowControlError('no_such_window', `not an X window id: ${windowId}`);
    const session = await this.desktopSession();
    const { conn, atoms } = session;
    try {
      const [clients, activeWindow] = await Promise.all([
        this.readClientList(session),
        this.readActiveWindow(session),
      ]);
      if (!clients.includes(window)) {
        throw new WindowControlError(
          'no_such_window',
          `no window ${formatWindowId(window)} in the window manager's client list`,
        );
      }
      const before = await this.readWindow(session, window, activeWindow);
      if (!before)
        throw new WindowControlError('no_such_window', `window ${formatWindowId(window)} has gone`);
      const current = { minimized: before.minimized, activeWindow };
      for (const message of messagesFor(action, current, atoms)) {
        await conn.sendToWindowManager(window, message.type, message.data);
      }
      await conn.sync();
      await this.awaitEffect(session, window, action);
    } catch (error) {
      throw asActionError(error, window, action);
    }
  }

  onChange(listener: (event: WindowChangeEvent) => void): () => void {
    this.listeners.add(listener);
    if (this.feed?.ready) {
      // Late subscribers still start from a full picture.
      const windows = this.feed.known;
      queueMicrotask(() => this.deliver(listener, { change: 'snapshot', windows }));
    } else if (!this.feed) {
      // The snapshot that ends the start-up reaches every listener subscribed by then.
      this.resumeFeed();
    }
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0) this.stopFeed();
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    this.listeners.clear();
    this.stopFeed();
    const pending = this.sessionPromise;
    this.sessionPromise = null;
    if (pending) {
      const session = await pending.catch(() => null);
      await session?.conn.close();
    }
  }

  // --- connection -------------------------------------------------------------------------

  private session(): Promise<Session> {
    if (this.closed) return Promise.reject(new XConnectionError('the window controller is closed'));
    if (this.sessionPromise) return this.sessionPromise;
    const display = this.display;
    if (display === undefined) return Promise.reject(new XConnectionError('$DISPLAY unset'));
    const opening = this.openSession(display);
    this.sessionPromise = opening;
    opening.catch(() => {
      if (this.sessionPromise === opening) this.sessionPromise = null;
    });
    return opening;
  }

  private async openSession(display: string): Promise<Session> {
    const conn = await XConnection.open({ display, connectTimeoutMs: this.connectTimeoutMs });
    let atoms: Atoms;
    try {
      atoms = await conn.internAtoms(ATOM_NAMES);
    } catch (error) {
      await conn.close();
      throw error;
    }
    const session: Session = { conn, atoms, byteOrder: conn.byteOrder === 1 ? 1 : 0 };
    conn.onClose((error) => {
      this.sessionPromise = null;
      if (this.feed?.session === session) {
        this.stopFeed();
        // The feed comes back on the next successful call (list, act, availability).
        if (error && this.listeners.size > 0) this.onFeedError(error);
      }
    });
    if (this.closed) {
      await conn.close();
      throw new XConnectionError('the window controller is closed');
    }
    return session;
  }

  /** A connected session on a display with an EWMH window manager, or capability_missing. */
  private async desktopSession(): Promise<Session> {
    let session: Session;
    try {
      session = await this.session();
    } catch (error) {
      throw new WindowControlError(
        'capability_missing',
        describeConnectFailure(this.display, error),
      );
    }
    const availability = assessWindowManager(
      await this.probeWindowManager(session),
      session.atoms,
      session.conn.display,
    );
    if (!availability.available)
      throw new WindowControlError('capability_missing', availability.reason);
    this.resumeFeed();
    return session;
  }

  // --- reading ----------------------------------------------------------------------------

  private async probeWindowManager(session: Session): Promise<WindowManagerProbe> {
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

  private async readClientList(session: Session): Promise<number[]> {
    const { conn, atoms, byteOrder } = session;
    const value = await conn.getProperty(conn.root, atoms._NET_CLIENT_LIST, MAX_LIST_BYTES);
    return value ? decodeCard32List(value.format, value.data, byteOrder) : [];
  }

  private async readActiveWindow(session: Session): Promise<number | null> {
    const { conn, atoms, byteOrder } = session;
    const value = await conn.getProperty(conn.root, atoms._NET_ACTIVE_WINDOW, 4);
    return value ? decodeCard32(value.format, value.data, byteOrder) : null;
  }

  private async readWindows(session: Session): Promise<WindowInfo[]> {
    const [clients, activeWindow] = await Promise.all([
      this.readClientList(session),
      this.readActiveWindow(session),
    ]);
    // All windows' requests go out in one pipelined batch: one round trip, not one per window.
    const windows = await Promise.all(
      clients.map((w) => this.readWindow(session, w, activeWindow)),
    );
    return windows.filter((w): w is WindowInfo => w !== null);
  }

  /** One window's description, or null when it vanished while being read. */
  private async readWindow(
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

  private async awaitEffect(session: Session, window: number, action: WindowAction): Promise<void> {
    const deadline = Date.now() + this.confirmTimeoutMs;
    for (;;) {
      const info = await this.readWindow(session, window, await this.readActiveWindow(session));
      if (actionApplied(action, info ?? undefined)) return;
      if (!info)
        throw new WindowControlError('no_such_window', `window ${formatWindowId(window)} has gone`);
      if (Date.now() >= deadline) {
        throw new WindowControlError(
          'action_failed',
          `the window manager did not ${action} window ${formatWindowId(window)} within ${this.confirmTimeoutMs} ms`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, CONFIRM_POLL_MS));
    }
  }

  // --- change feed ------------------------------------------------------------------------

  private resumeFeed(): void {
    if (this.listeners.size === 0 || this.feed || this.feedStarting || this.closed) return;
    const starting = this.startFeed()
      .catch((error: unknown) => this.onFeedError(toError(error)))
      .finally(() => {
        if (this.feedStarting === starting) this.feedStarting = null;
      });
    this.feedStarting = starting;
  }

  private async startFeed(): Promise<void> {
    const session = await this.desktopSessionForFeed();
    const { conn, atoms } = session;
    const feed: Feed = {
      session,
      known: [],
      selected: new Set(),
      ready: false,
      stopEvents: conn.onEvent((event) => {
        if (this.isRelevant(event, conn.root, atoms, feed.selected)) this.scheduleRefresh();
      }),
    };
    await conn.selectInput(conn.root, conn.eventMask.PropertyChange);
    if (this.listeners.size === 0 || this.closed) {
      feed.stopEvents();
      return;
    }
    this.feed = feed;
    feed.known = await this.readWindows(session);
    await this.selectClientEvents(feed, feed.known);
    feed.ready = true;
    this.emit({ change: 'snapshot', windows: feed.known });
    // Catch up with anything that changed while the first list was being read.
    this.scheduleRefresh();
  }

  private async desktopSessionForFeed(): Promise<Session> {
    const session = await this.session();
    const availability = assessWindowManager(
      await this.probeWindowManager(session),
      session.atoms,
      session.conn.display,
    );
    if (!availability.available)
      throw new WindowControlError('capability_missing', availability.reason);
    return session;
  }

  private stopFeed(): void {
    if (this.debounceTimer) clearTimeout(this.debounceTimer);
    this.debounceTimer = null;
    const feed = this.feed;
    this.feed = null;
    if (!feed) return;
    feed.stopEvents();
    if (!feed.session.conn.closed) {
      feed.session.conn.selectInput(feed.session.conn.root, 0).catch(() => undefined);
    }
  }

  private isRelevant(event: XRawEvent, root: number, atoms: Atoms, selected: Set<number>): boolean {
    if (event.name === 'PropertyNotify') {
      if (event.wid === root) {
        return event.atom === atoms._NET_CLIENT_LIST || event.atom === atoms._NET_ACTIVE_WINDOW;
      }
      return (
        event.atom === atoms._NET_WM_STATE ||
        event.atom === atoms._NET_WM_NAME ||
        event.atom === atoms.WM_NAME ||
        event.atom === atoms._NET_FRAME_EXTENTS
      );
    }
    if (event.name === 'ConfigureNotify') return selected.has(event.wid1 ?? event.wid ?? 0);
    if (
      event.name === 'DestroyNotify' ||
      event.name === 'UnmapNotify' ||
      event.name === 'MapNotify'
    ) {
      return selected.has(event.wid ?? 0);
    }
    return false;
  }

  private scheduleRefresh(): void {
    if (this.debounceTimer) clearTimeout(this.debounceTimer);
    this.debounceTimer = setTimeout(() => {
      this.debounceTimer = null;
      void this.refresh();
    }, this.debounceMs);
  }

  private async refresh(): Promise<void> {
    if (this.refreshing) {
      this.refreshAgain = true;
      return;
    }
    const feed = this.feed;
    if (!feed?.ready) return;
    const run = (async () => {
      const windows = await this.readWindows(feed.session);
      if (this.feed !== feed) return;
      const added = await this.selectClientEvents(feed, windows);
      const changes = diffWindowLists(feed.known, windows);
      feed.known = windows;
      for (const change of changes) this.emit({ ...change, windows });
      // A window's properties may have changed between reading them and selecting its events.
      if (added > 0) this.scheduleRefresh();
    })();
    this.refreshing = run;
    try {
      await run;
    } catch (error) {
      this.onFeedError(toError(error));
    } finally {
      this.refreshing = null;
    }
    if (this.refreshAgain) {
      this.refreshAgain = false;
      await this.refresh();
    }
  }

  /** Select property and structure events on windows not yet watched; returns how many. */
  private async selectClientEvents(feed: Feed, windows: readonly WindowInfo[]): Promise<number> {
    const { conn } = feed.session;
    const ids = new Set(windows.map((w) => parseWindowId(w.id) ?? 0));
    for (const id of feed.selected) if (!ids.has(id)) feed.selected.delete(id);
    const fresh = [...ids].filter((id) => id !== 0 && !feed.selected.has(id));
    const mask = conn.eventMask.PropertyChange | conn.eventMask.StructureNotify;
    await Promise.all(
      fresh.map(async (id) => {
        feed.selected.add(id);
        try {
          await conn.selectInput(id, mask);
        } catch (error) {
          if (!(error instanceof XProtocolError && error.windowVanished)) throw error;
        }
      }),
    );
    return fresh.length;
  }

  private emit(event: WindowChangeEvent): void {
    for (const listener of this.listeners) this.deliver(listener, event);
  }

  private deliver(listener: (event: WindowChangeEvent) => void, event: WindowChangeEvent): void {
    try {
      listener(event);
    } catch (error) {
      this.onFeedError(toError(error));
    }
  }
}

function describeConnectFailure(display: string | undefined, error: unknown): string {
  if (display === undefined) return 'no X display ($DISPLAY unset)';
  const detail = error instanceof Error ? error.message : String(error);
  return `no X display (${detail})`;
}

function lostDisplay(error: XConnectionError): WindowControlError {
  return new WindowControlError('capability_missing', `no X display (${error.message})`);
}

function asActionError(error: unknown, window: number, action: WindowAction): WindowControlError {
  if (error instanceof WindowControlError) return error;
  if (error instanceof XConnectionError) return lostDisplay(error);
  if (error instanceof XProtocolError && error.windowVanished) {
    return new WindowControlError('no_such_window', `window ${formatWindowId(window)} has gone`);
  }
  const detail = error instanceof Error ? error.message : String(error);
  return new WindowControlError(
    'action_failed',
    `${action} on window ${formatWindowId(window)} failed: ${detail}`,
  );
}

function toError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}
