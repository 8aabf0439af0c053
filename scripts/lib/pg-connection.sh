# Sourced by scripts/backup, restore, base-backup and restore-pitr: where the PostgreSQL client
# programs are, and the connection they use.
#
# The connection comes from DATABASE_URL (libpq URL, several hosts allowed:
# postgres://user:pass@h1:5432,h2:5432/db?target_session_attrs=read-write) or, when it is unset,
# from libpq's own PG* variables (PGHOST, PGPORT, PGUSER, PGDATABASE, PGPASSWORD, PGPASSFILE).
# A password in the URL goes into a private PGPASSFILE (0600, removed on exit) and is cut from
# the URL: it never appears on a command line (ps) nor in the output.

# The directory of a PostgreSQL client program: PG_BINDIR, then PATH, then Debian's
# /usr/lib/postgresql/<newest>/bin. Fails naming the program when none is found.
pg_program() {
  local name="$1" dir
  if [ -n "${PG_BINDIR:-}" ]; then
    [ -x "$PG_BINDIR/$name" ] || { echo "$name not found in PG_BINDIR=$PG_BINDIR" >&2; return 1; }
    echo "$PG_BINDIR/$name"
    return
  fi
  if command -v "$name" >/dev/null 2>&1; then
    command -v "$name"
    return
  fi
  for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    if [ -x "$dir/$name" ]; then
      echo "$dir/$name"
      return
    fi
  done
  echo "$name not found: install postgresql-client-15 (Debian) or set PG_BINDIR" >&2
  return 1
}

# Files and directories removed when the sourcing script exits, however it exits.
CLEANUP_PATHS=()
trap 'rm -rf -- "${CLEANUP_PATHS[@]}"' EXIT

# Percent-decoding of one URL component.
url_decode() {
  local text="${1//+/%2B}"
  printf '%b' "${text//%/\\x}"
}

# Sets PG_DB_ARGS, what the programs get to connect: --dbname=DATABASE_URL without its
# password, or PGDATABASE (the other PG* variables apply). A URL's password lands in a private PGPASSFILE.
pg_connection_setup() {
  if [ -z "${DATABASE_URL:-}" ]; then
    # libpq's own default database name, spelled out: pg_restore without one writes SQL to stdout.
    PG_DB_ARGS=("--dbname=${PGDATABASE:-${PGUSER:-$(id -un)}}")
    return 0
  fi
  local url="$DATABASE_URL"
  if [[ "$url" =~ [?\&]password= ]]; then
    echo "DATABASE_URL: put the password in the user part (user:password@host), not in ?password=" >&2
    return 1
  fi
  if [[ "$url" =~ ^(postgres(ql)?://)([^:@/]*):([^@/]*)@(.*)$ ]]; then
    local scheme="${BASH_REMATCH[1]}" user="${BASH_REMATCH[3]}" password rest="${BASH_REMATCH[5]}"
    password="$(url_decode "${BASH_REMATCH[4]}")"
    url="${scheme}${user}@${rest}"
    local PG_PASSFILE_TEMP
    PG_PASSFILE_TEMP="$(mktemp "${TMPDIR:-/tmp}/cybercorp-pgpass.XXXXXX")"
    chmod 0600 "$PG_PASSFILE_TEMP"
    # .pgpass escapes: backslash and colon.
    local escaped="${password//\\/\\\\}"
    escaped="${escaped//:/\\:}"
    printf '*:*:*:*:%s\n' "$escaped" >"$PG_PASSFILE_TEMP"
    CLEANUP_PATHS+=("$PG_PASSFILE_TEMP")
    export PGPASSFILE="$PG_PASSFILE_TEMP"
  elif [[ ! "$url" =~ ^postgres(ql)?:// ]]; then
    echo "DATABASE_URL must be a postgres:// URL" >&2
    return 1
  fi
  PG_DB_ARGS=("--dbname=$url")
}
