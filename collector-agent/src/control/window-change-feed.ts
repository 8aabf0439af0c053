import type { WindowInfo } from '@cybercorp/protocol';
import { diffWindowLists } from './window-diff.js';
import type { WindowChangeEvent } from './windows.js';

export type WindowChangeListener = (event: WindowChangeEvent) => void;

/** How a backend watches its desktop: X events on X11, polling with node-window-manager. */
export interface DesktopWatch {
  /** Starts watching, if not already; called whenever a listener wants a list not yet known. */
  start(): void;
  /** Stops watching: the last listener has gone, or the controller is closing. */
  stop(): void;
}

/**
 * The bookkeeping of a window change feed, shared by the backends: who listens, the last full
 * list, and what each new list changed. The backend watches its desktop while there are
 * listeners and hands every full list it reads to `publish`: the first since the watch started
 * goes out as a snapshot, each later one as the changes from the one before. A listener that
 * subscribes once a list is known still starts from a snapshot of it.
 */
export class WindowChangeFeed {
  private readonly listeners = new Set<WindowChangeListener>();
  private known: WindowInfo[] | null = null;

  constructor(
    private readonly watch: DesktopWatch,
    /** Errors of the background feed, which has no caller to throw to. */
    private readonly onError: (error: Error) => void = (error) =>
      console.error(`window change feed: ${error.message}`),
  ) {}

  /** Someone listens: the backend should be watching. */
  get watched(): boolean {
    return this.listeners.size > 0;
  }

  /** Returns the unsubscribe function; the last one to leave stops the watch. */
  subscribe(listener: WindowChangeListener): () => void {
    this.listeners.add(listener);
    const windows = this.known;
    if (windows) queueMicrotask(() => this.deliver(listener, { change: 'snapshot', windows }));
    else this.watch.start();
    return () => {
      if (this.listeners.delete(listener) && this.listeners.size === 0) this.stop();
    };
  }

  /** A full list the backend has read; ignored once nobody listens. */
  publish(windows: WindowInfo[]): void {
    if (!this.watched) return;
    const previous = this.known;
    this.known = windows;
    if (previous === null) {
      this.emit({ change: 'snapshot', windows });
      return;
    }
    for (const change of diffWindowLists(previous, windows)) this.emit({ ...change, windows });
  }

  /** The backend lost sight of the desktop: the next list it publishes is a snapshot again. */
  reset(): void {
    this.known = null;
  }

  reportError(error: unknown): void {
    this.onError(error instanceof Error ? error : new Error(String(error)));
  }

  /** Drops every listener and stops the watch. */
  close(): void {
    this.listeners.clear();
    this.stop();
  }

  private stop(): void {
    this.known = null;
    this.watch.stop();
  }

  private emit(event: WindowChangeEvent): void {
    for (const listener of this.listeners) this.deliver(listener, event);
  }

  private deliver(listener: WindowChangeListener, event: WindowChangeEvent): void {
    try {
      listener(event);
    } catch (error) {
      this.reportError(error);
    }
  }
}
