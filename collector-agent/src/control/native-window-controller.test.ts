import { describe, expect, it } from 'vitest';
import {
  describe as describeWindow,
  type NativeWindow,
  type NativeWindowModule,
} from './native-window-controller.js';
import { DarwinWindowController } from './windows.darwin.js';
import type { WindowChangeEvent } from './windows.js';
import { Win32WindowController } from './windows.win32.js';

/** An in-memory stand-in for node-window-manager's native addon (the one faked boundary). */
class FakeWindow implements NativeWindow {
  calls: string[] = [];
  constructor(
    readonly id: number,
    readonly processId: number,
    public title: string,
    public bounds = { x: 10, y: 20, width: 640, height: 480 },
    public visible = true,
  ) {}
  getTitle() {
    return this.title;
  }
  getBounds() {
    return this.bounds;
  }
  isVisible() {
    return this.visible;
  }
  isWindow() {
    return true;
  }
  bringToTop() {
    this.calls.push('bringToTop');
  }
  minimize() {
    this.calls.push('minimize');
  }
  maximize() {
    this.calls.push('maximize');
  }
  restore() {
    this.calls.push('restore');
  }
}

function fakeModule(windows: FakeWindow[], active: () => FakeWindow): NativeWindowModule {
  return { windowManager: { getWindows: () => windows, getActiveWindow: active } };
}

describe('Win32WindowController', () => {
  it('lists visible windows with pid, bounds and the active one', async () => {
    const editor = new FakeWindow(132, 4000, 'Editor');
    const hidden = new FakeWindow(133, 4001, 'tray helper', undefined, false);
    const parked = new FakeWindow(134, 4002, 'Mail', {
      x: -32000,
      y: -32000,
      width: 160,
      height: 28,
    });
    const controller = new Win32WindowController({
      loadModule: async () => fakeModule([editor, hidden, parked], () => editor),
    });
    expect(await controller.list()).toEqual([
      {
        id: '132',
        title: 'Editor',
        pid: 4000,
        bounds: { x: 10, y: 20, width: 640, height: 480 },
        active: true,
        minimized: false,
        maximized: false,
      },
      {
        id: '134',
        title: 'Mail',
        pid: 4002,
        bounds: { x: -32000, y: -32000, width: 160, height: 28 },
        active: false,
        minimized: true,
        maximized: false,
      },
    ]);
  });

  it('maps actions onto the package calls and refuses close and unknown ids', async () => {
    const editor = new FakeWindow(132, 4000, 'Editor');
    const controller = new Win32WindowController({
      loadModule: async () => fakeModule([editor], () => editor),
    });
    for (const action of ['focus', 'minimize', 'maximize', 'restore'] as const)
      await controller.act('132', action);
    expect(editor.calls).toEqual(['bringToTop', 'minimize', 'maximize', 'restore']);
    await expect(controller.act('132', 'close')).rejects.toMatchObject({
      code: 'capability_missing',
    });
    await expect(controller.act('999', 'focus')).rejects.toMatchObject({ code: 'no_such_window' });
  });

  it('reports itself unavailable, with the reason, when the package cannot be loaded', async () => {
    const controller = new Win32WindowController({
      loadModule: async () => {
        throw new Error(
          'window control needs the node-window-manager package on win32 (Cannot find package)',
        );
      },
    });
    expect(await controller.availability()).toEqual({
      available: false,
      reason: 'window control needs the node-window-manager package on win32 (Cannot find package)',
    });
    await expect(controller.list()).rejects.toMatchObject({ code: 'capability_missing' });
  });

  it('without the package installed, the real loader names it', async () => {
    const controller = new Win32WindowController();
    const availability = await controller.availability();
    expect(availability).toMatchObject({
      available: false,
      reason: expect.stringContaining('node-window-manager'),
    });
  });

  it('polls for changes: snapshot first, then added windows', async () => {
    const editor = new FakeWindow(132, 4000, 'Editor');
    const windows = [editor];
    const controller = new Win32WindowController({
      pollIntervalMs: 10,
      loadModule: async () => fakeModule(windows, () => editor),
    });
    const events: WindowChangeEvent[] = [];
    const off = controller.onChange((e) => events.push(e));
    await expect.poll(() => events.length).toBeGreaterThan(0);
    windows.push(new FakeWindow(140, 4100, 'Terminal'));
    await expect.poll(() => events.find((e) => e.change === 'added')).toBeDefined();
    off();
    await controller.close();
    expect(events[0]).toMatchObject({ change: 'snapshot', windows: [{ id: '132' }] });
    expect(events.find((e) => e.change === 'added')).toMatchObject({
      windowId: '140',
      windows: [{ id: '132' }, { id: '140' }],
    });
  });

  it('describe never reports a zero or negative pid', () => {
    expect(
      describeWindow(new FakeWindow(1, 0, 'x'), null, { isMinimizedAt: () => false }).pid,
    ).toBeNull();
  });
});

describe('DarwinWindowController', () => {
  it('reads no minimized state from the position, and acts only with the accessibility permission', async () => {
    const parked = new FakeWindow(134, 4002, 'Mail', { x: -32000, y: -32000, width: 1, height: 1 });
    let granted = false;
    const controller = new DarwinWindowController({
      loadModule: async () => ({
        windowManager: {
          getWindows: () => [parked],
          getActiveWindow: () => parked,
          requestAccessibility: () => granted,
        },
      }),
    });
    expect((await controller.list())[0]?.minimized).toBe(false);
    await expect(controller.act('134', 'restore')).rejects.toMatchObject({
      code: 'action_failed',
      message: 'macOS accessibility permission is not granted to the agent',
    });
    expect(parked.calls).toEqual([]);
    granted = true;
    await controller.act('134', 'restore');
    expect(parked.calls).toEqual(['restore']);
  });
});
