import { describe, expect, it } from 'vitest';
import { X11WindowController } from './windows.x11.js';

// Behaviour that needs no X server; everything else is in windows.x11.int.test.ts.
describe('X11WindowController without a display', () => {
  it('is unavailable when $DISPLAY is unset, and says so', async () => {
    const controller = new X11WindowController({ display: '' });
    expect(await controller.availability()).toEqual({
      available: false,
      reason: 'no X display ($DISPLAY unset)',
    });
    await expect(controller.list()).rejects.toMatchObject({
      code: 'capability_missing',
      message: 'no X display ($DISPLAY unset)',
    });
    await controller.close();
  });

  it('rejects a malformed window id as no_such_window before touching X', async () => {
    const controller = new X11WindowController({ display: '' });
    await expect(controller.act('not-an-id', 'focus')).rejects.toMatchObject({
      code: 'no_such_window',
    });
    await controller.close();
  });

  it('reports a malformed display string as a connection failure, not a crash', async () => {
    const controller = new X11WindowController({ display: 'no-colon-here' });
    expect(await controller.availability()).toMatchObject({
      available: false,
      reason: expect.stringMatching(/^no X display \(cannot connect to X display no-colon-here: /),
    });
    await controller.close();
  });
});
