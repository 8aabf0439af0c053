/**
 * Picks the window backend for the platform: EWMH over X11 on Linux and the BSDs, the
 * node-window-manager backend on Windows and macOS.
 */
import type { WindowController } from './windows.js';
import { NativeWindowController, type NativeWindowControllerOptions } from './windows.native.js';
import { X11WindowController, type X11WindowControllerOptions } from './windows.x11.js';

export interface WindowControllerOptions
  extends X11WindowControllerOptions, NativeWindowControllerOptions {
  /** Defaults to `process.platform`. */
  platform?: NodeJS.Platform;
}

export function createWindowController(options: WindowControllerOptions = {}): WindowController {
  const platform = options.platform ?? process.platform;
  if (platform === 'win32' || platform === 'darwin') return new NativeWindowController(options);
  return new X11WindowController(options);
}
