#!/bin/sh
# Run once by the PostgreSQL image when it creates the primary's cluster (mounted into
# /docker-entrypoint-initdb.d/): lets the standby and scripts/base-backup connect for
# replication, and makes commits synchronous to the standby named POSTGRES_SYNCHRONOUS_STANDBY
# (docs/backup-and-recovery.md explains the trade-off: a lost standby holds writes).
set -eu
echo "host replication ${POSTGRES_USER} all scram-sha-256" >>"$PGDATA/pg_hba.conf"
# ALTER SYSTEM, not a command-line setting: the image's initialisation server (this one) must
# not wait for a standby that cannot exist yet; the setting takes effect at the real start.
psql -v ON_ERROR_STOP=1 --no-psqlrc --username "$POSTGRES_USER" --dbname postgres \
  -c "ALTER SYSTEM SET synchronous_standby_names = '${POSTGRES_SYNCHRONOUS_STANDBY:-cybercorp_replica}'"
