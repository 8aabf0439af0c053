/**
 * Picks the window backend for the platform: EWMH over X11 on Linux and the BSDs, the
 * node-window-manager backends on Windows and macOS.
 */
import type { NativeWindowControllerOptions } from './native-window-controller.js';
import { DarwinWindowController } from './windows.darwin.js';
import type { WindowController } from './windows.js';
import { Win32WindowController } from './windows.win32.js';
import { X11WindowController, type X11WindowControllerOptions } from './windows.x11.js';

export interface WindowControllerOptions
  extends X11WindowControllerOptions, NativeWindowControllerOptions {
  /** Defaults to `process.platform`. */
  platform?: NodeJS.Platform;
}

export function createWindowController(options: WindowControllerOptions = {}): WindowController {
  const platform = options.platform ?? process.platform;
  if (platform === 'win32') return new Win32WindowController(options);
  if (platform === 'darwin') return new DarwinWindowController(options);
  return new X11WindowController(options);
}
