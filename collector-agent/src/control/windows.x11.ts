/**
 * Desktop windows on Linux/BSD: EWMH over the X protocol itself (the pure-JS `x11` package),
 * with one X connection per controller (`x11/session.ts`). Lists come from the window manager's
 * `_NET_CLIENT_LIST` (`x11/window-reader.ts`); actions are the client messages an EWMH window
 * manager obeys; the change feed follows X events and re-lists, debounced (`x11/event-feed.ts`).
 */
import type { WindowAction, WindowInfo } from '@cybercorp/protocol';
import { WindowChangeFeed } from './window-change-feed.js';
import {
  WindowControlError,
  type WindowAvailability,
  type WindowChangeEvent,
  type WindowController,
} from './windows.js';
import { XConnectionError, XProtocolError } from './x11/connection.js';
import { actionApplied, messagesFor } from './x11/ewmh.js';
import { X11EventFeed } from './x11/event-feed.js';
import { formatWindowId, parseWindowId } from './x11/properties.js';
import {
  describeConnectFailure,
  DisplaySession,
  lostDisplay,
  type Session,
} from './x11/session.js';
import {
  openDesktop,
  readActiveWindow,
  readClientList,
  readWindow,
  readWindows,
  windowManagerAvailability,
} from './x11/window-reader.js';

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

const CONFIRM_POLL_MS = 20;

export class X11WindowController implements WindowController {
  private readonly display: DisplaySession;
  private readonly changes: WindowChangeFeed;
  private readonly events: X11EventFeed;
  private readonly confirmTimeoutMs: number;
  private closed = false;

  constructor(options: X11WindowControllerOptions = {}) {
    const display = options.display ?? process.env.DISPLAY;
    this.display = new DisplaySession({
      display: display === '' ? undefined : display,
      connectTimeoutMs: options.connectTimeoutMs ?? 3000,
      onLost: (session, error) => this.events.sessionLost(session, error),
    });
    this.changes = new WindowChangeFeed(
      { start: () => this.events.start(), stop: () => this.events.stop() },
      options.onFeedError,
    );
    this.events = new X11EventFeed({
      display: this.display,
      changes: this.changes,
      debounceMs: options.debounceMs ?? 50,
      isClosed: () => this.closed,
    });
    this.confirmTimeoutMs = options.confirmTimeoutMs ?? 2000;
  }

  async availability(): Promise<WindowAvailability> {
    if (this.closed) return { available: false, reason: 'the window controller is closed' };
    let session: Session;
    try {
      session = await this.display.open();
    } catch (error) {
      return { available: false, reason: describeConnectFailure(this.display.display, error) };
    }
    const availability = await windowManagerAvailability(session);
    if (availability.available) this.events.start();
    return availability;
  }

  async list(): Promise<WindowInfo[]> {
    const session = await this.desktopSession();
    try {
      return await readWindows(session);
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
        readClientList(session),
        readActiveWindow(session),
      ]);
      if (!clients.includes(window)) {
        throw new WindowControlError(
          'no_such_window',
          `no window ${formatWindowId(window)} in the window manager's client list`,
        );
      }
      const before = await readWindow(session, window, activeWindow);
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
    return this.changes.subscribe(listener);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.changes.close();
    await this.display.close();
  }

  /** A session on a display with an EWMH window manager (or capability_missing); the feed resumes. */
  private async desktopSession(): Promise<Session> {
    const session = await openDesktop(this.display);
    this.events.start();
    return session;
  }

  private async awaitEffect(session: Session, window: number, action: WindowAction): Promise<void> {
    const deadline = Date.now() + this.confirmTimeoutMs;
    for (;;) {
      const info = await readWindow(session, window, await readActiveWindow(session));
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
