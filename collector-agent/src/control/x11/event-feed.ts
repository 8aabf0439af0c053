/**
 * The change feed of the X11 window backend: while someone listens it follows the
 * PropertyNotify/ConfigureNotify/… events of the root and client windows and, debounced,
 * re-lists the windows into the shared WindowChangeFeed, which turns the lists into events.
 */
import type { WindowInfo } from '@cybercorp/protocol';
import type { DesktopWatch, WindowChangeFeed } from '../window-change-feed.js';
import { XProtocolError } from './connection.js';
import type { Atoms } from './ewmh.js';
import { parseWindowId } from './properties.js';
import type { DisplaySession, Session } from './session.js';
import type { XRawEvent } from './x11-api.js';
import { openDesktop, readWindows } from './window-reader.js';

export interface X11EventFeedOptions {
  display: DisplaySession;
  changes: WindowChangeFeed;
  /** Quiet time before re-listing after X events. */
  debounceMs: number;
  /** The controller is closed: the feed does not start again. */
  isClosed: () => boolean;
}

interface Watch {
  session: Session;
  /** Client windows whose events we selected. */
  selected: Set<number>;
  /** The first full list has been read and published as a snapshot. */
  ready: boolean;
  stopEvents: () => void;
}

export class X11EventFeed implements DesktopWatch {
  private watch: Watch | null = null;
  private starting: Promise<void> | null = null;
  private debounceTimer: NodeJS.Timeout | null = null;
  private refreshing: Promise<void> | null = null;
  private refreshAgain = false;

  constructor(private readonly options: X11EventFeedOptions) {}

  /**
   * Starts following the display if someone listens and it is not followed yet. Also called by
   * the controller after each successful call, so the feed comes back after a lost connection.
   */
  start(): void {
    const { changes, isClosed } = this.options;
    if (!changes.watched || this.watch || this.starting || isClosed()) return;
    const starting = this.follow()
      .catch((error: unknown) => changes.reportError(error))
      .finally(() => {
        if (this.starting === starting) this.starting = null;
      });
    this.starting = starting;
  }

  stop(): void {
    if (this.debounceTimer) clearTimeout(this.debounceTimer);
    this.debounceTimer = null;
    const watch = this.watch;
    this.watch = null;
    if (!watch) return;
    watch.stopEvents();
    if (!watch.session.conn.closed) {
      watch.session.conn.selectInput(watch.session.conn.root, 0).catch(() => undefined);
    }
  }

  /** The connection of `session` has closed: the feed comes back on the next successful call. */
  sessionLost(session: Session, error: Error | null): void {
    if (this.watch?.session !== session) return;
    const { changes } = this.options;
    this.stop();
    changes.reset();
    if (error && changes.watched) changes.reportError(error);
  }

  private async follow(): Promise<void> {
    const { display, changes, isClosed } = this.options;
    const session = await openDesktop(display);
    const { conn, atoms } = session;
    const watch: Watch = {
      session,
      selected: new Set(),
      ready: false,
      stopEvents: conn.onEvent((event) => {
        if (isRelevant(event, conn.root, atoms, watch.selected)) this.scheduleRefresh();
      }),
    };
    await conn.selectInput(conn.root, conn.eventMask.PropertyChange);
    if (!changes.watched || isClosed()) {
      watch.stopEvents();
      return;
    }
    this.watch = watch;
    const windows = await readWindows(session);
    await this.selectClientEvents(watch, windows);
    if (this.watch !== watch) return; // stopped while reading
    watch.ready = true;
    changes.publish(windows);
    // Catch up with anything that changed while the first list was being read.
    this.scheduleRefresh();
  }

  private scheduleRefresh(): void {
    if (this.debounceTimer) clearTimeout(this.debounceTimer);
    this.debounceTimer = setTimeout(() => {
      this.debounceTimer = null;
      void this.refresh();
    }, this.options.debounceMs);
  }

  private async refresh(): Promise<void> {
    if (this.refreshing) {
      this.refreshAgain = true;
      return;
    }
    const watch = this.watch;
    if (!watch?.ready) return;
    const run = (async () => {
      const windows = await readWindows(watch.session);
      if (this.watch !== watch) return;
      const added = await this.selectClientEvents(watch, windows);
      if (this.watch !== watch) return;
      this.options.changes.publish(windows);
      // A window's properties may have changed between reading them and selecting its events.
      if (added > 0) this.scheduleRefresh();
    })();
    this.refreshing = run;
    try {
      await run;
    } catch (error) {
      this.options.changes.reportError(error);
    } finally {
      this.refreshing = null;
    }
    if (this.refreshAgain) {
      this.refreshAgain = false;
      await this.refresh();
    }
  }

  /** Select property and structure events on windows not yet watched; returns how many. */
  private async selectClientEvents(watch: Watch, windows: readonly WindowInfo[]): Promise<number> {
    const { conn } = watch.session;
    const ids = new Set(windows.map((w) => parseWindowId(w.id) ?? 0));
    for (const id of watch.selected) if (!ids.has(id)) watch.selected.delete(id);
    const fresh = [...ids].filter((id) => id !== 0 && !watch.selected.has(id));
    const mask = conn.eventMask.PropertyChange | conn.eventMask.StructureNotify;
    await Promise.all(
      fresh.map(async (id) => {
        watch.selected.add(id);
        try {
          await conn.selectInput(id, mask);
        } catch (error) {
          if (!(error instanceof XProtocolError && error.windowVanished)) throw error;
        }
      }),
    );
    return fresh.length;
  }
}

/** Events that may change the window list or a listed window. */
function isRelevant(event: XRawEvent, root: number, atoms: Atoms, selected: Set<number>): boolean {
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
