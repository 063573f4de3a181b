#!/usr/bin/env bash
# Run at image build time: start the node once with -XX:ArchiveClassesAtExit, stop it once it has
# started, and keep the AppCDS archive of Cassandra's classes in the image. Containers then map the
# classes instead of loading and verifying them (the local provider does the same in its cache).
# The node's data from this run is deleted: every container still starts from an empty node.
set -Eeuo pipefail

ARCHIVE=/opt/cassandra/cds/cassandra.jsa
LOG=/tmp/cds-run.log
: > "$LOG"

HARNESS_CDS=dump docker-entrypoint.sh >"$LOG" 2>&1 &
pid=$!
for _ in $(seq 1 600); do
    if grep -q 'Startup complete' "$LOG"; then
        break
    fi
    if ! kill -0 "$pid" 2>/dev/null; then
        tail -n 40 "$LOG" >&2
        echo >&2 "build-cds-archive: the node exited before start-up completed"
        exit 1
    fi
    sleep 0.5
done
grep -q 'Startup complete' "$LOG" || { tail -n 40 "$LOG" >&2; echo >&2 "build-cds-archive: no start-up in 300 s"; exit 1; }
kill -TERM "$pid"
wait "$pid" || true
[ -s "$ARCHIVE" ] || { tail -n 40 "$LOG" >&2; echo >&2 "build-cds-archive: no archive written"; exit 1; }
rm -rf /var/lib/cassandra/data /var/lib/cassandra/logs /var/lib/cassandra/tmp /var/lib/cassandra/conf "$LOG"
echo "build-cds-archive: $(du -h "$ARCHIVE" | cut -f1) archive written"
