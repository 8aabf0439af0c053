import { describe, expect, it } from 'vitest';
import { createWindowController } from './windows.factory.js';
import { DarwinWindowController } from './windows.darwin.js';
import { Win32WindowController } from './windows.win32.js';
import { X11WindowController } from './windows.x11.js';

describe('createWindowController', () => {
  it('uses X11 on Linux and the BSDs', () => {
    expect(createWindowController({ platform: 'linux', display: ':0' })).toBeInstanceOf(
      X11WindowController,
    );
    expect(createWindowController({ platform: 'freebsd', display: ':0' })).toBeInstanceOf(
      X11WindowController,
    );
  });

  it('uses node-window-manager on Windows and macOS', () => {
    expect(createWindowController({ platform: 'win32' })).toBeInstanceOf(Win32WindowController);
    expect(createWindowController({ platform: 'darwin' })).toBeInstanceOf(DarwinWindowController);
  });
});
