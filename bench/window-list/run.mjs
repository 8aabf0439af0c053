#!/usr/bin/env node
// Window listing: our X11 controller (EWMH over one persistent X connection, requests
// pipelined) against `wmctrl -lpG` (the classic CLI, one process per listing) on the same
// private Xvfb + openbox display with 50 windows. Also times the change feed: how long from
// spawning a window to its `added` event. Prints medians and ratios; budget: ratio <= 1.0.
//
//   npx tsc -b collector-agent && node bench/window-list/run.mjs [--windows 50] [--runs 40]
//
// Every process is started here and stopped by its pid at the end.
import { spawn, execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { performance } from 'node:perf_hooks';
import { option } from '../lib/options.mjs';
import { median } from '../lib/stats.mjs';

const run = promisify(execFile);
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const built = join(root, 'collector-agent', 'dist', 'control', 'windows.x11.js');
const WINDOWS = option('--windows', 50);
const RUNS = option('--runs', 40);
const FEED_SAMPLES = option('--feed-samples', 5);

if (!existsSync(built)) {
  console.error(`missing ${built}: build first with "npx tsc -b collector-agent"`);
  process.exit(2);
}
for (const program of ['Xvfb', 'openbox', 'wmctrl', 'xlogo', 'xprop']) {
  try {
    await run('sh', ['-c', `command -v ${program}`]);
  } catch {
    console.error(
      `missing program: ${program} (Debian packages: xvfb openbox wmctrl x11-apps x11-utils)`,
    );
    process.exit(2);
  }
}
const { X11WindowController } = await import(built);

const children = [];
const home = mkdtempSync(join(tmpdir(), 'bench-window-list-'));
let display = null;

function start(command, argv) {
  const child = spawn(command, argv, {
    stdio: process.env.BENCH_DEBUG ? 'inherit' : 'ignore',
    env: {
      PATH: process.env.PATH,
      DISPLAY: display,
      HOME: home,
      XDG_CONFIG_HOME: join(home, 'config'),
      XDG_CACHE_HOME: join(home, 'cache'),
    },
  });
  children.push(child);
  return child;
}

async function until(check, what, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const ok = (promise) =>
  promise.then(
    () => true,
    () => false,
  );

async function stopAll() {
  for (const child of children.reverse()) {
    if (child.exitCode !== null || child.signalCode !== null) continue;
    const gone = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
    await gone;
    clearTimeout(timer);
  }
  rmSync(home, { recursive: true, force: true });
}

let controller;
try {
  // A free display number: no socket and no lock file, then Xvfb must come up on it.
  for (let n = 120; n < 200 && display === null; n++) {
    if (existsSync(`/tmp/.X11-unix/X${n}`) || existsSync(`/tmp/.X${n}-lock`)) continue;
    display = `:${n}`;
    const xvfb = start('Xvfb', [
      display,
      '-nolisten',
      'tcp',
      '-noreset',
      '-screen',
      '0',
      '1920x1080x24',
    ]);
    const up = await until(
      async () =>
        xvfb.exitCode === null &&
        (await ok(run('xprop', ['-display', display, '-root', 'RESOURCE_MANAGER']))),
      `Xvfb ${display}`,
      10_000,
    ).then(
      () => true,
      () => false,
    );
    if (!up) {
      children.pop();
      if (xvfb.exitCode === null) xvfb.kill('SIGKILL');
      display = null;
    }
  }
  if (display === null) throw new Error('no free X display');
  start('openbox', ['--sm-disable']);
  await until(
    async () =>
      /window id #/.test(
        (
          await run('xprop', ['-display', display, '-root', '_NET_SUPPORTING_WM_CHECK']).catch(
            () => ({ stdout: '' }),
          )
        ).stdout,
      ),
    'openbox',
  );

  controller = new X11WindowController({ display });
  for (let i = 0; i < WINDOWS; i++)
    start('xlogo', ['-geometry', `120x120+${(i % 15) * 120}+${Math.floor(i / 15) * 150}`]);
  await until(
    async () => (await controller.list()).length >= WINDOWS,
    `${WINDOWS} windows`,
    60_000,
  );

  const coldStart = performance.now();
  const cold = new X11WindowController({ display });
  await cold.list();
  const coldMs = performance.now() - coldStart;
  await cold.close();

  const env = { ...process.env, DISPLAY: display };
  const ours = [];
  const theirs = [];
  for (let i = 0; i < RUNS; i++) {
    let t = performance.now();
    const listed = await controller.list();
    ours.push(performance.now() - t);
    t = performance.now();
    const { stdout } = await run('wmctrl', ['-lpG'], { env });
    theirs.push(performance.now() - t);
    const wmctrlCount = stdout.trim().split('\n').length;
    if (listed.length !== wmctrlCount)
      throw new Error(`disagreement: we list ${listed.length}, wmctrl ${wmctrlCount}`);
  }

  // Change feed latency: spawn -> `added` event for that window (found by its unique title).
  const feed = [];
  const events = [];
  const off = controller.onChange((e) => events.push({ at: performance.now(), e }));
  await until(() => events.some(({ e }) => e.change === 'snapshot'), 'snapshot');
  for (let i = 0; i < FEED_SAMPLES; i++) {
    const t = performance.now();
    const title = `feed-sample-${i}-${process.pid}`;
    start('xlogo', ['-title', title, '-geometry', '100x100+900+900']);
    const arrived = () =>
      events.find(
        ({ e }) =>
          e.change === 'added' && e.windows.some((w) => w.id === e.windowId && w.title === title),
      );
    await until(() => arrived() !== undefined, 'added event');
    const hit = arrived();
    feed.push(hit.at - t);
  }
  off();

  const o = median(ours);
  const w = median(theirs);
  console.log(
    `window-list bench: ${WINDOWS} windows on Xvfb ${display} + openbox, ${RUNS} runs each`,
  );
  console.log(`  ours (X11WindowController.list, warm connection): median ${o.toFixed(2)} ms`);
  console.log(`  ours cold (connect + intern atoms + list):        ${coldMs.toFixed(2)} ms`);
  console.log(`  baseline (wmctrl -lpG, process per listing):       median ${w.toFixed(2)} ms`);
  console.log(
    `  ratio ours/wmctrl: ${(o / w).toFixed(3)} (budget <= 1.0) ${o / w <= 1 ? 'OK' : 'OVER BUDGET'}`,
  );
  console.log(
    `  change feed spawn->added: median ${median(feed).toFixed(0)} ms, max ${Math.max(...feed).toFixed(0)} ms over ${FEED_SAMPLES} windows (budget < 2000 ms)`,
  );
} finally {
  await controller?.close();
  await stopAll();
}
