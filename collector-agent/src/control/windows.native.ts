/**
 * Desktop windows on Windows and macOS through `node-window-manager`. That package has a
 * native addon built at install time, so it is NOT a dependency of this workspace (installing
 * it on Linux would try to compile it): it is resolved at runtime with a dynamic `import()`
 * on those platforms, and an agent installed without it reports window control unavailable
 * with the reason. Install it next to the agent on Windows/macOS: `npm install node-window-manager`.
 *
 * What the package cannot tell or do: it has no "maximized" query (always reported false),
 * "minimized" is read from Windows' parking position for iconic windows (-32000), and there
 * is no close call, so `close` answers `capability_missing`.
 */
import type { WindowAction, WindowInfo } from '@cybercorp/protocol';
import {
  WindowControlError,
  type WindowAvailability,
  type WindowChangeEvent,
  type WindowController,
} from './windows.js';
import { diffWindowLists } from './x11/window-diff.js';

/** The subset of node-window-manager's API used here. */
export interface NativeWindow {
  id: number;
  processId: number;
  getTitle(): string;
  getBounds(): { x?: number; y?: number; width?: number; height?: number };
  isVisible(): boolean;
  isWindow(): boolean;
  bringToTop(): void;
  minimize(): void;
  maximize(): void;
  restore(): void;
}

export interface NativeWindowModule {
  windowManager: {
    getWindows(): NativeWindow[];
    getActiveWindow(): NativeWindow;
    /** macOS: prompts for the accessibility permission needed to act on windows. */
    requestAccessibility?(): boolean;
  };
}

export interface NativeWindowControllerOptions {
  /** How often the change feed polls the window list (default 1000 ms). */
  pollIntervalMs?: number;
  /** Replaces the runtime import of `node-window-manager` (tests). */
  loadModule?: () => Promise<NativeWindowModule>;
  /** Errors of the background change feed (default: console.error). */
  onFeedError?: (error: Error) => void;
}

const MODULE_NAME = 'node-window-manager';
/** Windows moves minimized top-level windows to this position. */
const ICONIC_POSITION = -32000;

export class NativeWindowController implements WindowController {
  private readonly pollIntervalMs: number;
  private readonly loadModule: () => Promise<NativeWindowModule>;
  private readonly onFeedError: (error: Error) => void;
  private modulePromise: Promise<NativeWindowModule> | null = null;
  private readonly listeners = new Set<(event: WindowChangeEvent) => void>();
  private pollTimer: NodeJS.Timeout | null = null;
  private known: WindowInfo[] | null = null;
  private closed = false;

  constructor(options: NativeWindowControllerOptions = {}) {
    this.pollIntervalMs = options.pollIntervalMs ?? 1000;
    this.loadModule = options.loadModule ?? importNodeWindowManager;
    this.onFeedError =
      options.onFeedError ?? ((error) => console.error(`window change feed: ${error.message}`));
  }

  async availability(): Promise<WindowAvailability> {
    if (this.closed) return { available: false, reason: 'the window controller is closed' };
    try {
      await this.module();
      return { available: true };
    } catch (error) {
      return { available: false, reason: error instanceof Error ? error.message : String(error) };
    }
  }

  async list(): Promise<WindowInfo[]> {
    const { windowManager } = await this.desktop();
    const activeId = safeActiveId(windowManager);
    return windowManager
      .getWindows()
      .filter((w) => w.isWindow() && w.isVisible())
      .map((w) => describe(w, activeId));
  }

  async act(windowId: string, action: WindowAction): Promise<void> {
    const { windowManager } = await this.desktop();
    const window = windowManager
      .getWindows()
      .find((w) => String(w.id) === windowId && w.isWindow());
    if (!window) throw new WindowControlError('no_such_window', `no window ${windowId}`);
    if (action === 'close') {
      throw new WindowControlError(
        'capability_missing',
        `closing windows is not supported on ${process.platform}`,
      );
    }
    if (
      process.platform === 'darwin' &&
      windowManager.requestAccessibility &&
      !windowManager.requestAccessibility()
    ) {
      throw new WindowControlError(
        'action_failed',
        'macOS accessibility permission is not granted to the agent',
      );
    }
    try {
      switch (action) {
        case 'focus':
          window.bringToTop();
          break;
        case 'minimize':
          window.minimize();
          break;
        case 'maximize':
          window.maximize();
          break;
        case 'restore':
          window.restore();
          break;
      }
    } catch (error) {
      const detail = error instanceof Error ? error.message : String(error);
      throw new WindowControlError(
        'action_failed',
        `${action} on window ${windowId} failed: ${detail}`,
      );
    }
  }

  onChange(listener: (event: WindowChangeEvent) => void): () => void {
    this.listeners.add(listener);
    if (!this.pollTimer && !this.closed) {
      this.pollTimer = setInterval(() => void this.poll(), this.pollIntervalMs);
      void this.poll();
    } else if (this.known) {
      const windows = this.known;
      queueMicrotask(() => this.deliver(listener, { change: 'snapshot', windows }));
    }
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0) this.stopPolling();
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    this.listeners.clear();
    this.stopPolling();
  }

  private module(): Promise<NativeWindowModule> {
    if (!this.modulePromise) {
      const loading = this.loadModule();
      this.modulePromise = loading;
      loading.catch(() => {
        if (this.modulePromise === loading) this.modulePromise = null;
      });
    }
    return this.modulePromise;
  }

  private async desktop(): Promise<NativeWindowModule> {
    if (this.closed)
      throw new WindowControlError('capability_missing', 'the window controller is closed');
    try {
      return await this.module();
    } catch (error) {
      throw new WindowControlError(
        'capability_missing',
        error instanceof Error ? error.message : String(error),
      );
    }
  }

  private async poll(): Promise<void> {
    try {
      const windows = await this.list();
      if (this.listeners.size === 0) return;
      const previous = this.known;
      this.known = windows;
      if (previous === null) {
        this.emit({ change: 'snapshot', windows });
        return;
      }
      for (const change of diffWindowLists(previous, windows)) this.emit({ ...change, windows });
    } catch (error) {
      this.onFeedError(error instanceof Error ? error : new Error(String(error)));
    }
  }

  private stopPolling(): void {
    if (this.pollTimer) clearInterval(this.pollTimer);
    this.pollTimer = null;
    this.known = null;
  }

  private emit(event: WindowChangeEvent): void {
    for (const listener of this.listeners) this.deliver(listener, event);
  }

  private deliver(listener: (event: WindowChangeEvent) => void, event: WindowChangeEvent): void {
    try {
      listener(event);
    } catch (error) {
      this.onFeedError(error instanceof Error ? error : new Error(String(error)));
    }
  }
}

async function importNodeWindowManager(): Promise<NativeWindowModule> {
  // A variable specifier keeps TypeScript from resolving a package this workspace does not install.
  const specifier: string = MODULE_NAME;
  try {
    // webpackIgnore: the agent's bundle leaves this import to Node at run time.
    const loaded = (await import(
      /* webpackIgnore: true */ specifier
    )) as Partial<NativeWindowModule> & {
      default?: Partial<NativeWindowModule>;
    };
    const windowManager = loaded.windowManager ?? loaded.default?.windowManager;
    if (!windowManager) throw new Error('it exports no windowManager');
    return { windowManager };
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    throw new Error(
      `window control needs the ${MODULE_NAME} package on ${process.platform} (${detail})`,
      { cause: error },
    );
  }
}

function safeActiveId(windowManager: NativeWindowModule['windowManager']): number | null {
  try {
    return windowManager.getActiveWindow().id;
  } catch {
    // No foreground window (locked screen, desktop focused): nothing is active.
    return null;
  }
}

/** Maps one node-window-manager window onto the wire shape. */
export function describe(window: NativeWindow, activeId: number | null): WindowInfo {
  const bounds = window.getBounds();
  const x = Math.round(bounds.x ?? 0);
  const y = Math.round(bounds.y ?? 0);
  return {
    id: String(window.id),
    title: window.getTitle() ?? '',
    pid: Number.isInteger(window.processId) && window.processId > 0 ? window.processId : null,
    bounds: {
      x,
      y,
      width: Math.max(0, Math.round(bounds.width ?? 0)),
      height: Math.max(0, Math.round(bounds.height ?? 0)),
    },
    active: window.id === activeId,
    minimized: x <= ICONIC_POSITION && y <= ICONIC_POSITION,
    maximized: false,
  };
}
