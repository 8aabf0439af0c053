/** Desktop windows on macOS, through node-window-manager (see native-window-controller.ts). */
import {
  NativeWindowController,
  type NativeWindowControllerOptions,
  type NativeWindowPlatform,
} from './native-window-controller.js';
import { WindowControlError } from './windows.js';

const DARWIN: NativeWindowPlatform = {
  name: 'darwin',
  // The package tells no minimized state on macOS, and no position means it there.
  isMinimizedAt: () => false,
  checkMayAct: (windowManager) => {
    // Acting on other applications' windows needs the accessibility permission; asking for it
    // prompts the user the first time.
    if (windowManager.requestAccessibility && !windowManager.requestAccessibility()) {
      throw new WindowControlError(
        'action_failed',
        'macOS accessibility permission is not granted to the agent',
      );
    }
  },
};

export class DarwinWindowController extends NativeWindowController {
  constructor(options: NativeWindowControllerOptions = {}) {
    super(DARWIN, options);
  }
}
