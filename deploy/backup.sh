#!/usr/bin/env bash
# Haven backup: a pg_dump of the database (custom format) to one destination, and the
# field-encryption key file to ANOTHER.
#
#   deploy/backup.sh --database-url URL --dump-dir DIR --keys-file FILE --keys-dir DIR2
#                    [--keep-days N] [--metrics-file FILE.prom]
#
# Every option has an environment fallback: BACKUP_DATABASE_URL, BACKUP_DUMP_DIR,
# HAVEN_KEYS_FILE, BACKUP_KEYS_DIR, BACKUP_KEEP_DAYS (default 35; 0 keeps everything),
# BACKUP_METRICS_FILE (node_exporter textfile: haven_backup_last_success_timestamp_seconds,
# haven_backup_size_bytes — alert when the last success is too old).
#
# --database-url: libpq URL of the schema owner (haven_owner). The owner reads every row:
#   row-level security does not apply to a table's owner (Haven does not FORCE it), so no
#   superuser is needed. The password comes from PGPASSFILE / passfile=, never the command line.
#   Run it against a replica to keep the load off the primary (add target_session_attrs=any).
# Writes DUMP_DIR/haven-<UTC time>.dump (+ .sha256), checks it with pg_restore --list, and
# KEYS_DIR/haven-keys-<UTC time> (+ .sha256), both mode 600.
#
# !!! THE DUMP AND THE KEY FILE MUST NEVER BE STORED TOGETHER. !!!
# The dump holds every identifying field sealed with AES-256-GCM under the keys in the key file
# (and the audit trail's MAC key is derived from it). Together they are the plain data of every
# victim in the system; apart, the dump alone discloses no identity, and the key file alone
# discloses nothing. Different destinations means different machines, accounts and
# credentials: e.g. the dumps in the backup storage, the key file in the organisation's
# secret store or an offline safe, with its own access list. Without the key file, a restore
# cannot open a single identifying field and `haven audit verify` cannot vouch for the trail:
# back it up after every `haven keys add`.
set -euo pipefail

DATABASE_URL_=${BACKUP_DATABASE_URL:-}
DUMP_DIR=${BACKUP_DUMP_DIR:-}
KEYS_FILE=${HAVEN_KEYS_FILE:-}
KEYS_DIR=${BACKUP_KEYS_DIR:-}
KEEP_DAYS=${BACKUP_KEEP_DAYS:-35}
METRICS=${BACKUP_METRICS_FILE:-}
while [ $# -gt 0 ]; do
    case $1 in
        --database-url) DATABASE_URL_=$2; shift 2 ;;
        --dump-dir) DUMP_DIR=$2; shift 2 ;;
        --keys-file) KEYS_FILE=$2; shift 2 ;;
        --keys-dir) KEYS_DIR=$2; shift 2 ;;
        --keep-days) KEEP_DAYS=$2; shift 2 ;;
        --metrics-file) METRICS=$2; shift 2 ;;
        -h|--help) sed -n '2,30p' "$0"; exit 0 ;;
        *) echo "unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done
die() { echo "backup: $*" >&2; exit 1; }
[ -n "$DATABASE_URL_" ] || die "--database-url (BACKUP_DATABASE_URL) is required"
[ -n "$DUMP_DIR" ] || die "--dump-dir (BACKUP_DUMP_DIR) is required"
[ -n "$KEYS_FILE" ] || die "--keys-file (HAVEN_KEYS_FILE) is required"
[ -n "$KEYS_DIR" ] || die "--keys-dir (BACKUP_KEYS_DIR) is required"
[ -r "$KEYS_FILE" ] || die "cannot read the key file $KEYS_FILE"
case $DATABASE_URL_ in *://*:*@*|*password=*) die "the database URL carries a password: use a passfile (PGPASSFILE or passfile=)";; esac

mkdir -p "$DUMP_DIR" "$KEYS_DIR"
DUMP_REAL=$(cd "$DUMP_DIR" && pwd -P)
KEYS_REAL=$(cd "$KEYS_DIR" && pwd -P)
case "$KEYS_REAL/" in "$DUMP_REAL/"*) die "the key destination $KEYS_REAL is inside the dump destination $DUMP_REAL: the key file must never be stored with the dumps";; esac
case "$DUMP_REAL/" in "$KEYS_REAL/"*) die "the dump destination $DUMP_REAL is inside the key destination $KEYS_REAL: the key file must never be stored with the dumps";; esac
if [ "$(stat -c %d "$DUMP_REAL")" = "$(stat -c %d "$KEYS_REAL")" ]; then
    echo "backup: WARNING: $DUMP_REAL and $KEYS_REAL are on the same filesystem. Ship them to different places" >&2
    echo "backup: WARNING: (different machines, accounts, credentials) before anyone else can reach them." >&2
fi

PGBIN=${PGBIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}
PG_DUMP=$PGBIN/pg_dump; [ -x "$PG_DUMP" ] || PG_DUMP=$(command -v pg_dump)
PG_RESTORE=$PGBIN/pg_restore; [ -x "$PG_RESTORE" ] || PG_RESTORE=$(command -v pg_restore)
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
umask 077

DUMP=$DUMP_REAL/haven-$STAMP.dump
# Custom format: compressed, restorable table by table, checked by pg_restore --list below.
"$PG_DUMP" --format=custom --compress=6 --no-password --file="$DUMP.partial" "$DATABASE_URL_"
"$PG_RESTORE" --list "$DUMP.partial" >/dev/null || die "pg_restore cannot read the new dump"
mv "$DUMP.partial" "$DUMP"
(cd "$DUMP_REAL" && sha256sum "$(basename "$DUMP")" >"$(basename "$DUMP").sha256")
echo "dump:     $DUMP ($(du -h "$DUMP" | cut -f1), $("$PG_RESTORE" --list "$DUMP" | grep -c ' TABLE DATA ') tables)"

KEYS_COPY=$KEYS_REAL/haven-keys-$STAMP
cp "$KEYS_FILE" "$KEYS_COPY"
chmod 600 "$KEYS_COPY"
(cd "$KEYS_REAL" && sha256sum "$(basename "$KEYS_COPY")" >"$(basename "$KEYS_COPY").sha256")
echo "key file: $KEYS_COPY ($(grep -cE '^[A-Za-z0-9_-]+ [0-9a-fA-F]{64}' "$KEYS_COPY") keys)"
echo "REMEMBER: the dump and the key file must never be stored together."

if [ "$KEEP_DAYS" -gt 0 ]; then
    find "$DUMP_REAL" -maxdepth 1 -name 'haven-*.dump*' -mtime +"$KEEP_DAYS" -print -delete | sed 's/^/pruned: /'
    # Key files are never pruned here: an old dump needs the keys of its day.
fi

if [ -n "$METRICS" ]; then
    tmp=$(mktemp "$(dirname "$METRICS")/.haven_backup.XXXXXX")
    printf '# HELP haven_backup_last_success_timestamp_seconds When deploy/backup.sh last finished.\n# TYPE haven_backup_last_success_timestamp_seconds gauge\nhaven_backup_last_success_timestamp_seconds %s\n# HELP haven_backup_size_bytes Size of the last dump.\n# TYPE haven_backup_size_bytes gauge\nhaven_backup_size_bytes %s\n' \
        "$(date +%s)" "$(stat -c %s "$DUMP")" >"$tmp"
    chmod 644 "$tmp" && mv "$tmp" "$METRICS"
fi
