/**
 * The X11 backend against a real X server and window manager: a private Xvfb display with
 * openbox, and xterm windows this test opens itself. Effects are read back with xprop, not
 * only through our own code. Only this display and these processes are ever touched.
 */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WindowInfo } from '@cybercorp/protocol';
import { exitOf } from '../../../e2e/support/processes.js';
import { PrivateDisplay, requirePrograms, waitUntil } from '../../../e2e/support/xvfb.js';
import { X11WindowController } from './windows.x11.js';
import { loadX11, type XClient, type XDisplay } from './x11/x11-api.js';
import type { WindowChangeEvent } from './windows.js';

const WAIT_MS = 15_000;

describe('X11WindowController on Xvfb + openbox', () => {
  let display: PrivateDisplay;
  let bareDisplay: PrivateDisplay | undefined;
  let controller: X11WindowController;
  const feedErrors: Error[] = [];
  const run = randomUUID().slice(0, 8);
  const titles = { first: `cc-first-${run}`, second: `cc-second-${run}`, late: `cc-late-${run}` };
  const xterms = new Map<string, ChildProcess>();

  async function windowTitled(title: string): Promise<WindowInfo> {
    let found: WindowInfo | undefined;
    await waitUntil(
      async () => {
        found = (await controller.list()).find((w) => w.title === title);
        return found !== undefined;
      },
      WAIT_MS,
      `a window titled ${title}`,
    );
    return found as WindowInfo;
  }

  function openXterm(title: string): ChildProcess {
    const child = display.spawnXterm(title);
    xterms.set(title, child);
    return child;
  }

  async function netWmState(id: string): Promise<string> {
    return display.xprop(['-id', id, '_NET_WM_STATE']);
  }

  beforeAll(async () => {
    await requirePrograms(['Xvfb', 'openbox', 'xterm', 'xprop']);
    display = await PrivateDisplay.start();
    controller = new X11WindowController({
      display: display.display,
      onFeedError: (e) => feedErrors.push(e),
    });
    openXterm(titles.first);
    openXterm(titles.second);
  });

  afterAll(async () => {
    await controller?.close();
    await display?.stop();
    await bareDisplay?.stop();
  });

  it('is available on a display with an EWMH window manager', async () => {
    expect(await controller.availability()).toEqual({ available: true });
  });

  it("lists the test's windows with titles, the xterms' pids and on-screen bounds", async () => {
    const first = await windowTitled(titles.first);
    const second = await windowTitled(titles.second);
    expect(first.pid).toBe(xterms.get(titles.first)?.pid);
    expect(second.pid).toBe(xterms.get(titles.second)?.pid);
    for (const w of [first, second]) {
      expect(w.id).toMatch(/^0x[0-9a-f]+$/);
      expect(w.bounds.width).toBeGreaterThan(50);
      expect(w.bounds.height).toBeGreaterThan(50);
      expect(w.bounds.x + w.bounds.width).toBeLessThanOrEqual(1280);
      expect(w.bounds.y + w.bounds.height).toBeLessThanOrEqual(800);
    }
    // The same ids the X server holds in the window manager's client list.
    const clientList = await display.xprop(['-root', '_NET_CLIENT_LIST']);
    expect(clientList).toContain(first.id);
    expect(clientList).toContain(second.id);
  });

  it('focus makes the window _NET_ACTIVE_WINDOW', async () => {
    const first = await windowTitled(titles.first);
    const second = await windowTitled(titles.second);
    for (const target of [first, second, first]) {
      await controller.act(target.id, 'focus');
      expect(await display.xprop(['-root', '_NET_ACTIVE_WINDOW'])).toContain(
        `window id # ${target.id}`,
      );
      const listed = await controller.list();
      expect(listed.filter((w) => w.active).map((w) => w.id)).toEqual([target.id]);
    }
  });

  it('minimize sets _NET_WM_STATE_HIDDEN and restore clears it', async () => {
    const first = await windowTitled(titles.first);
    await controller.act(first.id, 'minimize');
    expect(await netWmState(first.id)).toContain('_NET_WM_STATE_HIDDEN');
    expect((await windowTitled(titles.first)).minimized).toBe(true);

    await controller.act(first.id, 'restore');
    expect(await netWmState(first.id)).not.toContain('_NET_WM_STATE_HIDDEN');
    expect((await windowTitled(titles.first)).minimized).toBe(false);
  });

  it('maximize sets MAXIMIZED_VERT and MAXIMIZED_HORZ and restore clears them', async () => {
    const second = await windowTitled(titles.second);
    await controller.act(second.id, 'maximize');
    const state = await netWmState(second.id);
    expect(state).toContain('_NET_WM_STATE_MAXIMIZED_VERT');
    expect(state).toContain('_NET_WM_STATE_MAXIMIZED_HORZ');
    const maximized = await windowTitled(titles.second);
    expect(maximized.maximized).toBe(true);
    expect(maximized.bounds.width).toBeGreaterThan(second.bounds.width);

    await controller.act(second.id, 'restore');
    const restored = await netWmState(second.id);
    expect(restored).not.toContain('_NET_WM_STATE_MAXIMIZED_VERT');
    expect(restored).not.toContain('_NET_WM_STATE_MAXIMIZED_HORZ');
    expect((await windowTitled(titles.second)).bounds).toEqual(second.bounds);
  });

  it('reports the arrival of a newly opened window through the change feed', async () => {
    const events: WindowChangeEvent[] = [];
    const off = controller.onChange((event) => events.push(event));
    try {
      await waitUntil(() => events.some((e) => e.change === 'snapshot'), WAIT_MS, 'the snapshot');
      const snapshot = events.find((e) => e.change === 'snapshot');
      expect(snapshot?.windows.map((w) => w.title)).toEqual(
        expect.arrayContaining([titles.first, titles.second]),
      );

      const openedAt = Date.now();
      openXterm(titles.late);
      let arrival: WindowChangeEvent | undefined;
      await waitUntil(
        () => {
          arrival = events.find(
            (e) =>
              e.change === 'added' &&
              e.windows.some((w) => w.id === e.windowId && w.title === titles.late),
          );
          return arrival !== undefined;
        },
        WAIT_MS,
        'an added event for the new xterm',
      );
      // Informational: the budget is < 2 s from process start to event, measured in bench/.
      console.log(`change feed: new xterm reported ${Date.now() - openedAt} ms after spawn`);
      const late = arrival?.windows.find((w) => w.title === titles.late);
      expect(late?.pid).toBe(xterms.get(titles.late)?.pid);
    } finally {
      off();
    }
    expect(feedErrors).toEqual([]);
  });

  it('close removes the window and its xterm exits', async () => {
    const late = await windowTitled(titles.late);
    const child = xterms.get(titles.late) as ChildProcess;
    const events: WindowChangeEvent[] = [];
    const off = controller.onChange((event) => events.push(event));
    try {
      await controller.act(late.id, 'close');
      const exit = await Promise.race([
        exitOf(child),
        new Promise<never>((_, reject) =>
          setTimeout(() => reject(new Error('xterm did not exit')), WAIT_MS),
        ),
      ]);
      expect(exit.code !== null || exit.signal !== null).toBe(true);
      await waitUntil(
        async () => !(await controller.list()).some((w) => w.id === late.id),
        WAIT_MS,
        'the window to leave the list',
      );
      expect(await display.xprop(['-root', '_NET_CLIENT_LIST'])).not.toContain(late.id);
      await waitUntil(
        () => events.some((e) => e.change === 'removed' && e.windowId === late.id),
        WAIT_MS,
        'a removed event',
      );
    } finally {
      off();
    }
  });

  it('answers no_such_window for an id that is not a managed window', async () => {
    const closedId = (await controller.list()).find((w) => w.title === titles.late)?.id;
    expect(closedId).toBeUndefined();
    await expect(controller.act('0x1', 'focus')).rejects.toMatchObject({ code: 'no_such_window' });
    const root = /window id # (0x[0-9a-f]+)/.exec(
      await display.xprop(['-root', '_NET_SUPPORTING_WM_CHECK']),
    )?.[1];
    expect(root).toBeDefined();
    // openbox's own check window exists on the server but is not a client window.
    await expect(controller.act(root as string, 'minimize')).rejects.toMatchObject({
      code: 'no_such_window',
    });
  });

  it('is unavailable, with the reason, on a display without a window manager', async () => {
    bareDisplay = await PrivateDisplay.start({ windowManager: false });
    const bare = new X11WindowController({ display: bareDisplay.display });
    try {
      expect(await bare.availability()).toEqual({
        available: false,
        reason: expect.stringContaining(
          `no EWMH window manager on X display ${bareDisplay.display}`,
        ),
      });
      await expect(bare.list()).rejects.toMatchObject({ code: 'capability_missing' });
    } finally {
      await bare.close();
    }
  });

  it('skips a listed window that no longer exists (BadWindow) and lists the rest', async () => {
    // A stand-in window manager on the bare display: it publishes the EWMH root properties with
    // a client list naming one live window and one destroyed one, so the server really answers
    // BadWindow for the latter.
    const bare = bareDisplay as PrivateDisplay;
    const fakeWm = await rawConnect(bare.display);
    const X = fakeWm.client;
    const root = fakeWm.screen[0]?.root as number;
    try {
      const [check, supported, clientList, wmName] = await Promise.all(
        ['_NET_SUPPORTING_WM_CHECK', '_NET_SUPPORTED', '_NET_CLIENT_LIST', '_NET_WM_NAME'].map(
          (name) => intern(X, name),
        ),
      );
      const checkWindow = createWindow(X, root);
      const alive = createWindow(X, root);
      const dead = createWindow(X, root);
      X.DestroyWindow(dead);
      const WINDOW = 33;
      const ATOM = 4;
      const STRING = 31;
      X.ChangeProperty(0, checkWindow, check as number, WINDOW, 32, [checkWindow]);
      X.ChangeProperty(0, root, check as number, WINDOW, 32, [checkWindow]);
      X.ChangeProperty(0, root, supported as number, ATOM, 32, [
        clientList as number,
        wmName as number,
      ]);
      X.ChangeProperty(0, alive, 39 /* WM_NAME */, STRING, 8, `alive-${run}`);
      X.ChangeProperty(0, root, clientList as number, WINDOW, 32, [dead, alive]);
      await X.sync();

      const controller = new X11WindowController({ display: bare.display });
      try {
        expect(await controller.availability()).toEqual({ available: true });
        const listed = await controller.list();
        expect(listed.map((w) => w.title)).toEqual([`alive-${run}`]);
        expect(listed[0]).toMatchObject({
          id: `0x${alive.toString(16)}`,
          pid: null,
          minimized: false,
          maximized: false,
        });
        await expect(controller.act(`0x${dead.toString(16)}`, 'focus')).rejects.toMatchObject({
          code: 'no_such_window',
        });
      } finally {
        await controller.close();
      }
    } finally {
      await new Promise<void>((resolve) => X.close(() => resolve()));
    }
  });

  it('reports a lost X server to the feed and recovers nothing silently', async () => {
    const doomed = await PrivateDisplay.start();
    const errors: Error[] = [];
    const controller = new X11WindowController({
      display: doomed.display,
      onFeedError: (e) => errors.push(e),
    });
    try {
      const events: WindowChangeEvent[] = [];
      const off = controller.onChange((e) => events.push(e));
      await waitUntil(() => events.length > 0, WAIT_MS, 'the snapshot');
      await doomed.stop();
      await waitUntil(() => errors.length > 0, WAIT_MS, 'the feed to report the lost connection');
      expect(errors[0]?.message).toContain(doomed.display);
      await expect(controller.list()).rejects.toMatchObject({
        code: 'capability_missing',
        message: expect.stringContaining('no X display'),
      });
      expect(await controller.availability()).toMatchObject({ available: false });
      off();
    } finally {
      await controller.close();
      await doomed.stop();
    }
  });

  it('is unavailable, with the reason, when no X server answers', async () => {
    let n = 200;
    while (existsSync(`/tmp/.X11-unix/X${n}`) && n < 260) n++;
    const nowhere = new X11WindowController({ display: `:${n}` });
    try {
      expect(await nowhere.availability()).toEqual({
        available: false,
        reason: expect.stringMatching(
          new RegExp(`^no X display \\(cannot connect to X display :${n}: .*ECONNREFUSED`),
        ),
      });
    } finally {
      await nowhere.close();
    }
  });
});

/**
 * A plain x11-package connection, for the stand-in window manager above. Its sync() without a
 * callback returns a Promise, which the agent's XClient (callback style) does not declare.
 */
interface RawClient extends Omit<XClient, 'sync'> {
  AllocID(): number;
  CreateWindow(
    wid: number,
    parent: number,
    x: number,
    y: number,
    width: number,
    height: number,
  ): void;
  DestroyWindow(wid: number): void;
  ChangeProperty(
    mode: number,
    wid: number,
    name: number,
    type: number,
    format: number,
    data: number[] | string,
  ): void;
  sync(): Promise<void>;
}

function rawConnect(display: string): Promise<XDisplay & { client: RawClient }> {
  return new Promise((resolve, reject) => {
    loadX11().createClient({ display }, (error, connected) => {
      if (error) reject(error);
      else resolve(connected as XDisplay & { client: RawClient });
    });
  });
}

function intern(X: XClient, name: string): Promise<number> {
  return new Promise((resolve, reject) =>
    X.InternAtom(false, name, (error, atom) => (error ? reject(error) : resolve(atom))),
  );
}

function createWindow(X: RawClient, root: number): number {
  const wid = X.AllocID();
  X.CreateWindow(wid, root, 0, 0, 50, 50);
  return wid;
}
