#!/bin/sh
# The compose service `postgres-replica`: a streaming hot standby of PRIMARY_HOST, cloned with
# pg_basebackup on its first start, named STANDBY_NAME (the primary's synchronous standby).
# Runs as the postgres account (the service's `user:`).
set -eu
: "${PGDATA:=/var/lib/postgresql/data}"
: "${STANDBY_NAME:=cybercorp_replica}"
: "${PRIMARY_HOST:?set PRIMARY_HOST}"
: "${POSTGRES_USER:?set POSTGRES_USER}"
: "${POSTGRES_PASSWORD:?set POSTGRES_PASSWORD}"

# The replication password, in a file of its own (0600), never on a command line.
umask 077
passfile="$HOME/replication.pgpass"
printf '%s:5432:*:%s:%s\n' "$PRIMARY_HOST" "$POSTGRES_USER" "$POSTGRES_PASSWORD" >"$passfile"
export PGPASSFILE="$passfile"

if [ ! -s "$PGDATA/PG_VERSION" ]; then
  until pg_isready --host="$PRIMARY_HOST" --quiet; do sleep 2; done
  pg_basebackup --host="$PRIMARY_HOST" --username="$POSTGRES_USER" --no-password \
    --pgdata="$PGDATA" --wal-method=stream --checkpoint=fast
  echo "primary_conninfo = 'host=$PRIMARY_HOST port=5432 user=$POSTGRES_USER passfile=$passfile application_name=$STANDBY_NAME'" \
    >>"$PGDATA/postgresql.auto.conf"
  touch "$PGDATA/standby.signal"
fi
chmod 0700 "$PGDATA"
exec postgres -D "$PGDATA" -c hot_standby=on
