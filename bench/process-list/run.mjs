// Compares one read of the agent's process table with one run of `ps` over the same processes.
// Usage: npm run build && node bench/process-list/run.mjs [--runs N] [--extra N]
// Prints the median of each and the ratio ours/ps (lower is better; the budget is <= 1.0).
import { spawn, execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { performance } from 'node:perf_hooks';
import { createProcessTable } from '../../collector-agent/dist/index.js';
import { option } from '../lib/options.mjs';
import { median } from '../lib/stats.mjs';

const run = promisify(execFile);
const PS_ARGS = ['-eo', 'pid,ppid,user,stat,pcpu,rss,lstart,args'];

const runs = option('--runs', 30);
const extra = option('--extra', 500);

async function time(fn) {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

const children = [];
try {
  for (let i = 0; i < extra; i++) {
    children.push(spawn('sleep', ['600'], { stdio: 'ignore' }));
  }
  await new Promise((resolve) => setTimeout(resolve, 500));

  const table = createProcessTable();
  let rows = 0;
  let psLines = 0;
  // Warm-up: first reads fill caches (passwd, boot time) on both sides.
  await table.list();
  await run('ps', PS_ARGS, { maxBuffer: 64 * 1024 * 1024 });

  const ours = [];
  const theirs = [];
  for (let i = 0; i < runs; i++) {
    ours.push(await time(async () => (rows = (await table.list()).length)));
    theirs.push(
      await time(async () => {
        const { stdout } = await run('ps', PS_ARGS, { maxBuffer: 64 * 1024 * 1024 });
        psLines = stdout.split('\n').length - 2;
      }),
    );
  }
  const oursMs = median(ours);
  const psMs = median(theirs);
  console.log(`processes: table ${rows}, ps ${psLines}; runs: ${runs}`);
  console.log(`median table.list(): ${oursMs.toFixed(2)} ms`);
  console.log(`median ps ${PS_ARGS.join(' ')}: ${psMs.toFixed(2)} ms`);
  console.log(`ratio (ours / ps): ${(oursMs / psMs).toFixed(3)}`);
} finally {
  for (const child of children) {
    if (child.pid !== undefined && child.exitCode === null) child.kill('SIGTERM');
  }
}
