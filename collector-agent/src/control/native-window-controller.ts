/**
 * Desktop windows through `node-window-manager`, the part shared by the Windows and macOS
 * backends (`windows.win32.ts`, `windows.darwin.ts`). That package has a native addon built at
 * install time, so it is NOT a dependency of this workspace (installing it on Linux would try
 * to compile it): it is resolved at runtime with a dynamic `import()` on those platforms, and
 * an agent installed without it reports window control unavailable with the reason. Install it
 * next to the agent on Windows/macOS: `npm install node-window-manager`.
 *
 * What the package cannot tell or do: it has no "maximized" query (always reported false), and
 * there is no close call, so `close` answers `capability_missing`.
 */
import type { WindowAction, WindowInfo } from '@cybercorp/protocol';
import { WindowChangeFeed } from './window-change-feed.js';
import {
  WindowControlError,
  type WindowAvailability,
  type WindowChangeEvent,
  type WindowController,
} from './windows.js';

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

export type NativeWindowManager = NativeWindowModule['windowManager'];

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

/** What differs between the platforms the package serves. */
export interface NativeWindowPlatform {
  name: 'darwin' | 'win32';
  /** Whether a window at this on-screen position is minimized, where position tells it. */
  isMinimizedAt(x: number, y: number): boolean;
  /** Throws WindowControlError when the agent may not act on windows (yet). */
  checkMayAct(windowManager: NativeWindowManager): void;
}

const MODULE_NAME = 'node-window-manager';

export abstract class NativeWindowController implements WindowController {
  private readonly pollIntervalMs: number;
  private readonly loadModule: () => Promise<NativeWindowModule>;
  private readonly changes: WindowChangeFeed;
  private modulePromise: Promise<NativeWindowModule> | null = null;
  private pollTimer: NodeJS.Timeout | null = null;
  private closed = false;

  protected constructor(
    private readonly platform: NativeWindowPlatform,
    options: NativeWindowControllerOptions,
  ) {
    this.pollIntervalMs = options.pollIntervalMs ?? 1000;
    this.loadModule = options.loadModule ?? (() => importNodeWindowManager(platform.name));
    this.changes = new WindowChangeFeed(
      { start: () => this.startPolling(), stop: () => this.stopPolling() },
      options.onFeedError,
    );
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
      .map((w) => describe(w, activeId, this.platform));
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
        `closing windows is not supported on ${this.platform.name}`,
      );
    }
    this.platform.checkMayAct(windowManager);
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
    return this.changes.subscribe(listener);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.changes.close();
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

  private startPolling(): void {
    if (this.pollTimer || this.closed) return;
    this.pollTimer = setInterval(() => void this.poll(), this.pollIntervalMs);
    void this.poll();
  }

  private stopPolling(): void {
    if (this.pollTimer) clearInterval(this.pollTimer);
    this.pollTimer = null;
  }

  private async poll(): Promise<void> {
    try {
      this.changes.publish(await this.list());
    } catch (error) {
      this.changes.reportError(error);
    }
  }
}

async function importNodeWindowManager(platform: string): Promise<NativeWindowModule> {
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
    throw new Error(`window control needs the ${MODULE_NAME} package on ${platform} (${detail})`, {
      cause: error,
    });
  }
}

function safeActiveId(windowManager: NativeWindowManager): number | null {
  try {
    return windowManager.getActiveWindow().id;
  } catch {
    // No foreground window (locked screen, desktop focused): nothing is active.
    return null;
  }
}

/** Maps one node-window-manager window onto the wire shape. */
export function describe(
  window: NativeWindow,
  activeId: number | null,
  platform: Pick<NativeWindowPlatform, 'isMinimizedAt'>,
): WindowInfo {
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
    minimized: platform.isMinimizedAt(x, y),
    maximized: false,
  };
}
