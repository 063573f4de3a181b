#!/usr/bin/env bash
# Entrypoint of harness/cassandra: fill the addresses into the rendered cassandra.yaml and exec the JVM.
# Environment (names as in the official cassandra image where one exists):
#   CASSANDRA_LISTEN_ADDRESS, CASSANDRA_RPC_ADDRESS     default: this container's IP
#   CASSANDRA_BROADCAST_ADDRESS, CASSANDRA_BROADCAST_RPC_ADDRESS, CASSANDRA_SEEDS
#   CASSANDRA_CLUSTER_NAME (default harness), CASSANDRA_AUTHENTICATOR (AllowAllAuthenticator or
#   PasswordAuthenticator, which also turns on CassandraAuthorizer; superuser cassandra/cassandra)
#   MAX_HEAP_SIZE (default 512M), JVM_OPTS and JVM_EXTRA_OPTS (appended to the JVM command line),
#   HARNESS_CDS (auto: use the AppCDS archive baked into the image; off; dump: write it)
set -Eeuo pipefail

CONF_SRC=/opt/cassandra/conf
STATE=/var/lib/cassandra
CONF="$STATE/conf"

container_ip() {
    local ip
    ip="$(hostname -i 2>/dev/null | awk '{print $1}')"
    if [ -z "$ip" ]; then
        echo >&2 "error: cannot determine the container's IP address (hostname -i); set CASSANDRA_LISTEN_ADDRESS"
        exit 1
    fi
    printf '%s' "$ip"
}

if [ "${1:-cassandra}" != cassandra ] && [ "${1:0:1}" != '-' ]; then
    exec "$@"
fi

ip="$(container_ip)"
listen="${CASSANDRA_LISTEN_ADDRESS:-$ip}"
rpc="${CASSANDRA_RPC_ADDRESS:-$ip}"
broadcast="${CASSANDRA_BROADCAST_ADDRESS:-$listen}"
broadcast_rpc="${CASSANDRA_BROADCAST_RPC_ADDRESS:-$rpc}"
seeds="${CASSANDRA_SEEDS:-$broadcast:7000}"
cluster="${CASSANDRA_CLUSTER_NAME:-harness}"
case "${CASSANDRA_AUTHENTICATOR:-AllowAllAuthenticator}" in
    AllowAllAuthenticator) authenticator=AllowAllAuthenticator; authorizer=AllowAllAuthorizer ;;
    PasswordAuthenticator) authenticator=PasswordAuthenticator; authorizer=CassandraAuthorizer ;;
    *) echo >&2 "error: CASSANDRA_AUTHENTICATOR must be AllowAllAuthenticator or PasswordAuthenticator"; exit 1 ;;
esac

mkdir -p "$CONF" "$STATE/logs" "$STATE/tmp" "$STATE/data"
sed -e "s|__LISTEN_ADDRESS__|$listen|" \
    -e "s|__RPC_ADDRESS__|$rpc|" \
    -e "s|__BROADCAST_ADDRESS__|$broadcast|" \
    -e "s|__BROADCAST_RPC_ADDRESS__|$broadcast_rpc|" \
    -e "s|__SEEDS__|$seeds|" \
    -e "s|__CLUSTER_NAME__|$cluster|" \
    -e "s|__AUTHENTICATOR__|$authenticator|" \
    -e "s|__AUTHORIZER__|$authorizer|" \
    "$CONF_SRC/cassandra.yaml" > "$CONF/cassandra.yaml"

mapfile -t jvm_options < <(grep -v '^[[:space:]]*\(#\|$\)' "$CONF_SRC/jvm.options")
# AppCDS: the archive baked at build time (HARNESS_CDS=dump writes it); HARNESS_CDS=off skips it.
cds_archive=/opt/cassandra/cds/cassandra.jsa
case "${HARNESS_CDS:-auto}" in
    dump) jvm_options+=("-XX:ArchiveClassesAtExit=$cds_archive" -Xlog:cds=off -Xlog:cds+dynamic=off) ;;
    off) ;;
    *) [ -s "$cds_archive" ] && jvm_options+=("-XX:SharedArchiveFile=$cds_archive" -Xshare:auto -Xlog:cds=off) ;;
esac
heap="${MAX_HEAP_SIZE:-512M}"
# shellcheck disable=SC2206  # JVM_OPTS / JVM_EXTRA_OPTS are word lists by contract (official image)
extra=(${JVM_OPTS:-} ${JVM_EXTRA_OPTS:-})

echo "harness/cassandra: listen $listen, rpc $rpc, broadcast_rpc $broadcast_rpc, heap $heap"
exec java "-Xms$heap" "-Xmx$heap" "${jvm_options[@]}" "${extra[@]}" \
    "-Dcassandra.config=file://$CONF/cassandra.yaml" \
    "-Dlogback.configurationFile=$CONF_SRC/logback.xml" \
    "-Dcassandra.logdir=$STATE/logs" \
    "-Dcassandra.storagedir=$STATE/data" \
    "-Djava.io.tmpdir=$STATE/tmp" \
    "-Djna.tmpdir=$STATE/tmp" \
    -cp "/opt/cassandra/lib/*" \
    org.apache.cassandra.service.CassandraDaemon
