import type { WindowAction, WindowInfo } from '@cybercorp/protocol';

export type WindowChange = 'added' | 'removed' | 'changed' | 'active' | 'snapshot';

export interface WindowChangeEvent {
  change: WindowChange;
  windowId?: string;
  /** The full list after the change. */
  windows: WindowInfo[];
}

export type WindowAvailability = { available: true } | { available: false; reason: string };

/**
 * Desktop windows of the host, behind one interface with one implementation per platform
 * (`windows.x11.ts` speaks EWMH over the X protocol; `windows.win32.ts` and `windows.darwin.ts`
 * use node-window-manager). An implementation that cannot reach a desktop reports why through `availability()`
 * so the agent does not announce window control.
 */
export interface WindowController {
  availability(): Promise<WindowAvailability>;
  list(): Promise<WindowInfo[]>;
  /** Throws WindowControlError with code `no_such_window` or `action_failed`. */
  act(windowId: string, action: WindowAction): Promise<void>;
  /** Subscribe to the change feed; returns the unsubscribe function. */
  onChange(listener: (event: WindowChangeEvent) => void): () => void;
  close(): Promise<void>;
}

export class WindowControlError extends Error {
  constructor(
    readonly code: 'no_such_window' | 'action_failed' | 'capability_missing',
    message: string,
  ) {
    super(message);
  }
}
