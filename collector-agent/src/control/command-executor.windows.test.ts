import { encodeControlData } from '@cybercorp/protocol';
import { describe, expect, it } from 'vitest';
import { fakeWindows, ids, NOW, setup, signal } from './test-support/executor-fakes.js';

describe('CommandExecutor: windows and undecodable commands', () => {
  it('answers window commands with capability_missing without a usable controller', async () => {
    const none = setup();
    expect(
      await none.executor.execute({ type: 'window.list', commandId: ids.a, deadline: NOW + 1 }),
    ).toMatchObject({
      ok: false,
      error: { code: 'capability_missing' },
    });
    const unavailable = setup({ windows: fakeWindows({ available: false, reason: 'no DISPLAY' }) });
    expect(
      await unavailable.executor.execute({
        type: 'window.list',
        commandId: ids.a,
        deadline: NOW + 1,
      }),
    ).toMatchObject({
      ok: false,
      error: { code: 'capability_missing', message: expect.stringContaining('no DISPLAY') },
    });
    const disabled = setup({ windows: fakeWindows({ available: true }), windowsEnabled: false });
    expect(
      await disabled.executor.execute({ type: 'window.list', commandId: ids.a, deadline: NOW + 1 }),
    ).toMatchObject({
      ok: false,
      error: { code: 'control_disabled' },
    });
  });

  it('routes window commands and maps WindowControlError codes', async () => {
    const acted: string[] = [];
    const windows = fakeWindows({ available: true }, acted);
    const { executor } = setup({ windows });
    const listed = await executor.execute({
      type: 'window.list',
      commandId: ids.a,
      deadline: NOW + 1,
    });
    expect(listed).toMatchObject({ ok: true, data: [{ id: '0x1' }] });
    expect(
      await executor.execute({
        type: 'window.action',
        commandId: ids.b,
        deadline: NOW + 1,
        windowId: '0x1',
        action: 'focus',
      }),
    ).toMatchObject({ ok: true, data: {} });
    expect(
      await executor.execute({
        type: 'window.action',
        commandId: ids.c,
        deadline: NOW + 1,
        windowId: '0x2',
        action: 'close',
      }),
    ).toMatchObject({ ok: false, error: { code: 'no_such_window' } });
    expect(acted).toEqual(['0x1:focus']);
  });

  it("refuses window actions on a protected process's window and acts on the others", async () => {
    const acted: string[] = [];
    const windows = fakeWindows({ available: true }, acted, [
      { id: '0x1', pid: 77 },
      { id: '0x2', pid: 50 }, // the agent's own window
      { id: '0x3', pid: 1 },
      { id: '0x4', pid: null }, // no _NET_WM_PID
    ]);
    const { executor } = setup({ windows });
    const act = (commandId: string, windowId: string) =>
      executor.execute({
        type: 'window.action',
        commandId,
        deadline: NOW + 1,
        windowId,
        action: 'close',
      });
    expect(await act(ids.a, '0x2')).toMatchObject({
      ok: false,
      error: { code: 'protected_process', message: expect.stringContaining('0x2') },
    });
    expect(await act(ids.b, '0x3')).toMatchObject({
      ok: false,
      error: { code: 'protected_process' },
    });
    expect(await act(ids.c, '0x1')).toMatchObject({ ok: true });
    expect(await act('0192f6e4-7b1c-7cc0-8a3e-5d1f2a3b4c04', '0x4')).toMatchObject({ ok: true });
    expect(acted).toEqual(['0x1:close', '0x4:close']);
  });

  it('refuses window actions with control_disabled when control is off', async () => {
    const acted: string[] = [];
    const { executor } = setup({
      windows: fakeWindows({ available: true }, acted),
      controlEnabled: false,
    });
    expect(
      await executor.execute({
        type: 'window.action',
        commandId: ids.a,
        deadline: NOW + 1,
        windowId: '0x1',
        action: 'focus',
      }),
    ).toMatchObject({ ok: false, error: { code: 'control_disabled' } });
    expect(acted).toEqual([]);
  });

  it('answers undecodable data with validation_failed when a commandId is readable', async () => {
    const { executor } = setup();
    const bad = new TextEncoder().encode(
      JSON.stringify({ type: 'process.signal', commandId: ids.a, deadline: NOW, pid: -3 }),
    );
    expect(await executor.handle(bad)).toMatchObject({
      ok: false,
      commandId: ids.a,
      error: { code: 'validation_failed' },
    });
    expect(await executor.handle(new TextEncoder().encode('{"type":"nope"}'))).toBeUndefined();
    expect(await executor.handle(new Uint8Array([0xff]))).toBeUndefined();
    expect(await executor.handle(encodeControlData(signal(ids.b, 77)))).toMatchObject({ ok: true });
  });
});
