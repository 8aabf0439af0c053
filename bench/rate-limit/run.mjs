// The REST rate limiter's cost: `GET /me` throughput with the limiter off, on with counters in
// memory, and on with counters in Redis (a real redis-server on loopback), in one run; a second
// process with the limiter off shows how far two identical variants differ on this machine.
// Usage: npm run build && node bench/rate-limit/run.mjs [--seconds N] [--rounds N]
// Each variant is its own control API process (sharing one embedded PostgreSQL; `GET /me` does
// not query it); `wrk` (Debian package) drives 8 keep-alive connections for N seconds per
// round, rounds alternate between the variants so that drift on the shared cores hits them
// alike, and the median of the rounds is reported with its ratio to the limiter off. The limit
// is set far above what wrk reaches, so every request is counted and none is refused.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRedisServer } from '../lib/redis-server.mjs';
import { BENCH_ADMIN, forkApiChild, serveApiChild } from '../lib/api-child.mjs';
import { option } from '../lib/options.mjs';
import { upperMedian } from '../lib/stats.mjs';

const SECONDS = option('--seconds', 5);
const ROUNDS = option('--rounds', 3);
const CONCURRENCY = 8;
const NEVER_REFUSED = 1_000_000_000;

/** The API child: starts with the options it is given, reports its URL, closes when asked. */
if (process.argv[2] === '--api-child') {
  await serveApiChild({}, (api) => ({
    url: api.url,
    databaseUrl: api.databaseUrl,
  }));
}

const launchApi = (options) => forkApiChild(import.meta.url, options);

function wrk(url, token) {
  const lua = join(workDir, 'wrk.lua');
  writeFileSync(lua, `wrk.headers["authorization"] = ${JSON.stringify(`Bearer ${token}`)}\n`);
  let output;
  try {
    output = execFileSync(
      'wrk',
      ['-t', '1', '-c', String(CONCURRENCY), '-d', `${SECONDS}s`, '-s', lua, `${url}/api/v1/me`],
      { encoding: 'utf8' },
    );
  } catch (error) {
    if (error.code === 'ENOENT') throw new Error('wrk is not installed (Debian package wrk)');
    throw error;
  }
  const bad = /Non-2xx or 3xx responses: (\d+)/.exec(output);
  if (bad) throw new Error(`GET /me: ${bad[1]} non-2xx responses under load\n${output}`);
  const rate = /Requests\/sec:\s+([\d.]+)/.exec(output);
  if (!rate) throw new Error(`could not read wrk's output:\n${output}`);
  return Number(rate[1]);
}

const workDir = mkdtempSync(join(tmpdir(), 'cybercorp-bench-rate-limit-'));
const redis = await startRedisServer();
const apis = [];
try {
  // The first variant owns the embedded PostgreSQL and the signing key file; the others share them.
  const off = await launchApi({ dataDir: join(workDir, '.data'), rateLimitPerMinute: 0 });
  apis.push({ name: 'limiter off', ...off });
  const shared = {
    databaseUrl: off.databaseUrl,
    jwtSecretFile: join(workDir, '.data', 'jwt-keys.json'),
    rateLimitPerMinute: NEVER_REFUSED,
  };
  // A second process with the limiter off: how far two identical variants differ (noise).
  apis.push({
    name: 'limiter off (2)',
    ...(await launchApi({ ...shared, rateLimitPerMinute: 0 })),
  });
  apis.push({ name: 'limiter, memory', ...(await launchApi(shared)) });
  apis.push({
    name: 'limiter, Redis',
    ...(await launchApi({ ...shared, redisUrl: redis.url })),
  });

  const login = await fetch(`${off.url}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(BENCH_ADMIN),
  });
  const { accessToken } = await login.json();
  for (const api of apis) {
    const me = await fetch(`${api.url}/api/v1/me`, {
      headers: { authorization: `Bearer ${accessToken}` },
    });
    if (!me.ok) throw new Error(`${api.name}: GET /me answered ${me.status}`);
    api.rates = [];
    api.headers = me.headers.get('ratelimit-policy') ?? 'none';
  }

  for (let round = 0; round < ROUNDS; round++) {
    for (const api of apis) api.rates.push(wrk(api.url, accessToken));
  }
  const baseline = (upperMedian(apis[0].rates) + upperMedian(apis[1].rates)) / 2;
  console.log(
    `GET /me, wrk ${CONCURRENCY} connections, ${ROUNDS} rounds of ${SECONDS} s per variant (median)`,
  );
  for (const api of apis) {
    const rate = upperMedian(api.rates);
    console.log(
      `${api.name.padEnd(16)} ${rate.toFixed(0).padStart(6)} req/s   ratio to off (mean of both) ${(rate / baseline).toFixed(3)}   rounds ${api.rates.map((r) => r.toFixed(0)).join(', ')}   RateLimit-Policy ${api.headers}`,
    );
  }
} finally {
  for (const api of apis.reverse()) await api.close();
  await redis.stop();
  rmSync(workDir, { recursive: true, force: true });
}
