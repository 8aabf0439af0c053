# Sourced by scripts/backup and scripts/base-backup: the settings both read, with the same
# defaults and the same checks.

# Sets dir, days and prefix from BACKUP_DIR (default ./backups), BACKUP_RETENTION_DAYS (30) and
# BACKUP_PREFIX (cybercorp); exits 2, naming the calling script, when one is malformed. The
# prefix ends up in file names and in find patterns, hence the narrow alphabet.
backup_settings() {
  local script
  script="$(basename "$0")"
  dir="${BACKUP_DIR:-backups}"
  days="${BACKUP_RETENTION_DAYS:-30}"
  prefix="${BACKUP_PREFIX:-cybercorp}"
  [[ "$days" =~ ^[1-9][0-9]*$ ]] || { echo "$script: BACKUP_RETENTION_DAYS must be a positive integer, got '$days'" >&2; exit 2; }
  [[ "$prefix" =~ ^[A-Za-z0-9._-]+$ ]] || { echo "$script: BACKUP_PREFIX may hold only letters, digits, . _ -" >&2; exit 2; }
}

# Creates the backup directory (0700) and makes everything written from here on private (umask
# 077): backups hold the whole database.
backup_directory() {
  umask 077
  mkdir -p "$dir"
  chmod 0700 "$dir"
}
