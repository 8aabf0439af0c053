#!/usr/bin/env -S node --max-semi-space-size=1 --single-threaded-gc --no-memory-reducer --no-opt --optimize-for-size --always-sparkplug
// Committed launcher so npm can link the bin at install time, before the first build. It runs
// the agent's bundle, dist/cybercorp-agent.mjs (see webpack.config.mjs for why a bundle).
//
// The node flags on the first line are the agent's, measured in bench/agent-overhead: the agent
// wakes every 10 s for a few milliseconds, so memory and the cost of one cold cycle matter more
// than peak speed.
//   --max-semi-space-size=1  a 1 MB young generation: the startup peak no longer grows to 16 MB
//   --single-threaded-gc     no GC helper threads waking on a 2-core host for a tiny heap
//   --no-memory-reducer      no extra full GCs after each quiet spell (most of the idle CPU)
//   --no-opt                 no optimizing compiler: its compilations, spread over the first
//                            hundred cycles, cost more CPU than they saved and ~10 MB of RSS
//   --optimize-for-size      V8's smaller-heap trade-offs (~3 MB less RSS, no CPU cost measured)
//   --always-sparkplug       baseline machine code for each function on first call: a cycle runs
//                            once per 10 s, too seldom for V8 to tier its code up on its own
// (--lite-mode, used before, runs everything in the interpreter without inline caches: the OTLP
// serializer alone then took 4-5 ms per export.) `node dist/bin.js` is the unbundled entry
// without these flags. Started as `node <this file>` (no shebang, e.g. an npm shim on Windows),
// the launcher runs itself once more with its flags.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const self = fileURLToPath(import.meta.url);
const flags = readFileSync(self, 'utf8').split('\n', 1)[0].split(/\s+/).slice(3);
const RELAUNCHED = 'CYBERCORP_AGENT_RELAUNCHED';

if (flags.every((flag) => process.execArgv.includes(flag)) || process.env[RELAUNCHED]) {
  await import('../dist/cybercorp-agent.mjs');
} else {
  const child = spawn(process.execPath, [...flags, self, ...process.argv.slice(2)], {
    stdio: 'inherit',
    env: { ...process.env, [RELAUNCHED]: '1' },
  });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'])
    process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => {
    if (code !== null) process.exit(code);
    // Die of the same signal, as the shell expects of the process it started.
    process.removeAllListeners(signal);
    process.kill(process.pid, signal);
  });
}
