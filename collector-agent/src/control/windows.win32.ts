/** Desktop windows on Windows, through node-window-manager (see native-window-controller.ts). */
import {
  NativeWindowController,
  type NativeWindowControllerOptions,
  type NativeWindowPlatform,
} from './native-window-controller.js';

/** Windows moves minimized (iconic) top-level windows to this position. */
const ICONIC_POSITION = -32000;

const WIN32: NativeWindowPlatform = {
  name: 'win32',
  // The package has no minimized query; Windows' parking position of iconic windows tells it.
  isMinimizedAt: (x, y) => x <= ICONIC_POSITION && y <= ICONIC_POSITION,
  checkMayAct: () => undefined,
};

export class Win32WindowController extends NativeWindowController {
  constructor(options: NativeWindowControllerOptions = {}) {
    super(WIN32, options);
  }
}
