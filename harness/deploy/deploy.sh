#!/usr/bin/env bash
# Build a team's migrations image and run its migrations as Kubernetes Jobs with the harness Helm chart.
# Run it from the team's repository (or `harness deploy ...`, which runs this file shipped with the package).
#
#   deploy.sh                 build the image from the migration directories, helm upgrade --install --wait
#   deploy.sh --reset         the same, but each Job first EMPTIES its database/keyspace (typed confirmation,
#                             or --yes without a terminal); one-shot: a retry or a repeated upgrade never resets twice
#   deploy.sh --dry-run       print the manifests; no docker, helm or cluster is touched
#
# Run deploy.sh --help for every option.
set -euo pipefail

# This file's real directory (the repository links deploy.sh into harness/deploy/): the chart and the helpers
# are next to it.
script_dir() {
    local path="$1" dir
    while [ -L "$path" ]; do
        dir="$(cd -P "$(dirname "$path")" && pwd)"
        path="$(readlink "$path")"
        case "$path" in /*) ;; *) path="$dir/$path" ;; esac
    done
    cd -P "$(dirname "$path")" && pwd
}
HERE="$(script_dir "${BASH_SOURCE[0]}")"

NAMESPACE="${NAMESPACE:-default}"
RELEASE="${RELEASE:-migrations}"
IMAGE="${IMAGE:-migrations}"
TAG="${TAG:-}"
BASE_IMAGE="${BASE_IMAGE:-}"
HELM_TIMEOUT="${HELM_TIMEOUT:-15m}"
PYTHON="${PYTHON:-python3}"
CHART="${CHART:-$HERE/helm/migrations}"
REPO="${REPO:-$PWD}"
DOCKERFILE="${DOCKERFILE:-}"
PG_DIR=""
CASS_DIR=""
RESET=false
YES=false
DRY_RUN=false
BUILD=true
PUSH=false
RUN_TEST=false
VALUES_FILES=()
SETS=()

usage() {
    cat <<'EOF'
Usage: deploy.sh [options]          (run from your repository)

Builds your migrations image (FROM the harness applier image, plus your migration directories) and runs the
migrations as Kubernetes Jobs (Helm pre-install/pre-upgrade hooks of the harness chart).

Where the migrations are (flags win over HARNESS_POSTGRES_MIGRATIONS / HARNESS_CASSANDRA_MIGRATIONS, which
win over harness.toml or [tool.harness] in pyproject.toml, which win over the known layouts):
      --repo DIR                 your repository (default: the current directory)
      --postgres-migrations DIR  PostgreSQL (dbmate) migrations
      --cassandra-migrations DIR Cassandra migrations; a store without migrations gets no Job
      --dockerfile FILE          your image's Dockerfile (default: DIR/Dockerfile when it COPYs into
                                 /migrations/, else one is generated: FROM the base image + COPY)
      --base-image IMG           the applier base image (default: migrations-harness:<chart appVersion>)

Image:
  -i, --image REPO       image repository, e.g. registry.example/team/migrations (default: migrations)
  -t, --tag TAG          image tag (default: derived from the migrations' content and the base image)
      --push             docker push the image and pin the release to its digest; without it the image
                         stays local (load it into a local cluster yourself)
      --no-build         use an existing image (the default tag still follows the migrations)

Release:
  -n, --namespace NS     Kubernetes namespace (default: default; created if missing)
  -r, --release NAME     Helm release name (default: migrations)
  -f, --values FILE      values file for the chart (repeatable); may not contain reset settings
      --set KEY=VALUE    extra chart value (repeatable); not reset.*, image.* (except image.pullPolicy)
                         or passwords: those come from --reset, -i/-t/--push, and a values file,
                         the environment (DEPLOY_POSTGRES_PASSWORD, DEPLOY_CASSANDRA_PASSWORD) or existingSecret
      --chart DIR        chart directory (default: the chart shipped with the harness)
      --timeout DUR      helm --timeout (default: 15m)
      --test             run `helm test` (harness drift, read-only) after the deploy
      --reset            DESTROY all data: each Job empties its database/keyspace before migrating; asks you
                         to type each target's name, unless --yes
  -y, --yes              confirm --reset without a prompt (automation)
      --dry-run          print the manifests only (no docker, helm or kubectl needed; uses helm-python-sdk
                         when installed, else `helm template`); passwords redacted
  -h, --help             show this help

Environment defaults: NAMESPACE, RELEASE, IMAGE, TAG, BASE_IMAGE, HELM_TIMEOUT, PYTHON, CHART, REPO, DOCKERFILE.
EOF
}

say() { printf 'deploy.sh: %s\n' "$*" >&2; }
die() { printf 'deploy.sh: error: %s\n' "$1" >&2; exit "${2:-1}"; }
need_value() { [ "$#" -ge 2 ] && [ -n "$2" ] || die "option $1 needs a value (see --help)" 2; }

while [ "$#" -gt 0 ]; do
    case "$1" in
        -n|--namespace) need_value "$@"; NAMESPACE="$2"; shift 2 ;;
        -r|--release) need_value "$@"; RELEASE="$2"; shift 2 ;;
        -f|--values) need_value "$@"; VALUES_FILES+=("$2"); shift 2 ;;
        -t|--tag) need_value "$@"; TAG="$2"; shift 2 ;;
        -i|--image) need_value "$@"; IMAGE="$2"; shift 2 ;;
        --base-image) need_value "$@"; BASE_IMAGE="$2"; shift 2 ;;
        --set) need_value "$@"; SETS+=("$2"); shift 2 ;;
        --chart) need_value "$@"; CHART="$2"; shift 2 ;;
        --repo) need_value "$@"; REPO="$2"; shift 2 ;;
        --dockerfile) need_value "$@"; DOCKERFILE="$2"; shift 2 ;;
        --postgres-migrations) need_value "$@"; PG_DIR="$2"; shift 2 ;;
        --cassandra-migrations) need_value "$@"; CASS_DIR="$2"; shift 2 ;;
        --timeout) need_value "$@"; HELM_TIMEOUT="$2"; shift 2 ;;
        --no-build) BUILD=false; shift ;;
        --push) PUSH=true; shift ;;
        --test) RUN_TEST=true; shift ;;
        --reset) RESET=true; shift ;;
        -y|--yes) YES=true; shift ;;
        --dry-run) DRY_RUN=true; shift ;;
        -h|--help) usage; exit 0 ;;
        *) die "unknown option '$1' (see --help)" 2 ;;
    esac
done

# ------------------------------------------------------------------ input checks (nothing runs before these)

# shellcheck source=/dev/null # checks.sh, next to this file: check_inputs, check_values_file, check_set
. "$HERE/checks.sh"

# ------------------------------------------------------------------ the team's migrations and image

sha256() {
    if command -v sha256sum >/dev/null 2>&1; then sha256sum | cut -d' ' -f1; else shasum -a 256 | cut -d' ' -f1; fi
}

# PG_DIR, CASS_DIR and CONTRACT from the flags, else from the team's settings (layout.py).
find_migrations() {
    CONTRACT=""
    local item path
    if [ -z "$PG_DIR" ] || [ -z "$CASS_DIR" ]; then
        local found
        found="$("$PYTHON" "$HERE/layout.py" "$REPO")" \
            || die "could not read the migration settings of '$REPO' with $PYTHON; pass --postgres-migrations and --cassandra-migrations" 2
        while IFS=$'\t' read -r item path; do
            case "$item" in
                postgres) [ -n "$PG_DIR" ] || PG_DIR="$path" ;;
                cassandra) [ -n "$CASS_DIR" ] || CASS_DIR="$path" ;;
                contract) CONTRACT="$path" ;;
            esac
        done <<<"$found"
    fi
    for path in "$PG_DIR" "$CASS_DIR"; do
        [ -z "$path" ] || [ -d "$path" ] || die "migrations directory '$path' does not exist" 2
    done
    [ -n "$PG_DIR$CASS_DIR" ] || die "no migrations found in '$REPO': set postgres_migrations / cassandra_migrations in harness.toml, or pass --postgres-migrations / --cassandra-migrations" 2
}

# The build context: only the migrations (and the contract), laid out as the image wants them, plus the
# generated Dockerfile. A team Dockerfile builds from the repository instead (they are hashed for the tag either way).
prepare_build() {
    if [ -z "$BASE_IMAGE" ]; then
        BASE_IMAGE="migrations-harness:$(awk -F'"' '/^appVersion:/ { print $2 }' "$CHART/Chart.yaml")"
    fi
    if [ -z "$DOCKERFILE" ] && [ -f "$REPO/Dockerfile" ] && grep -Eq '^COPY .* /migrations/' "$REPO/Dockerfile"; then
        DOCKERFILE="$REPO/Dockerfile"
    fi
    BUILD_CONTEXT="$WORK/context"
    mkdir -p "$BUILD_CONTEXT"
    {
        echo "ARG BASE_IMAGE=$BASE_IMAGE"
        # shellcheck disable=SC2016 # a Dockerfile variable, expanded by docker
        echo 'FROM ${BASE_IMAGE}'
        if [ -n "$PG_DIR" ]; then
            mkdir -p "$BUILD_CONTEXT/postgres" && cp -R "$PG_DIR/." "$BUILD_CONTEXT/postgres/"
            echo "COPY postgres/ /migrations/postgres/"
        fi
        if [ -n "$CASS_DIR" ]; then
            mkdir -p "$BUILD_CONTEXT/cassandra" && cp -R "$CASS_DIR/." "$BUILD_CONTEXT/cassandra/"
            echo "COPY cassandra/ /migrations/cassandra/"
        fi
        if [ -n "$CONTRACT" ]; then cp "$CONTRACT" "$BUILD_CONTEXT/contract.md"; echo "COPY contract.md /migrations/contract.md"; fi
    } >"$WORK/Dockerfile.generated"
    if [ -z "$DOCKERFILE" ]; then
        mv "$WORK/Dockerfile.generated" "$BUILD_CONTEXT/Dockerfile"
        DOCKERFILE="$BUILD_CONTEXT/Dockerfile"
        BUILD_DIR="$BUILD_CONTEXT"
    else
        [ -f "$DOCKERFILE" ] || die "Dockerfile '$DOCKERFILE' does not exist" 2
        cp "$DOCKERFILE" "$BUILD_CONTEXT/Dockerfile.team"
        BUILD_DIR="$(cd "$REPO" && pwd)"   # its COPY lines name paths of the repository
    fi
    # The same migrations on the same base give the same tag, and any change gives a new one (a node never
    # pulls a tag it already has).
    if [ -z "$TAG" ]; then
        TAG="m-$({ (cd "$BUILD_CONTEXT" && find . -type f | LC_ALL=C sort | while IFS= read -r f; do
                printf '%s %s\n' "$f" "$(sha256 <"$f")"; done); echo "$BASE_IMAGE"; } | sha256 | cut -c1-12)"
    fi
}

build_image() {
    local args=(build --tag "$IMAGE:$TAG" --file "$DOCKERFILE")
    if [ "$DOCKERFILE" = "$BUILD_CONTEXT/Dockerfile" ] || [ -n "${BASE_IMAGE_GIVEN:-}" ]; then
        args+=(--build-arg "BASE_IMAGE=$BASE_IMAGE")
    fi
    say "building $IMAGE:$TAG from $DOCKERFILE (base $BASE_IMAGE)"
    docker "${args[@]}" "$BUILD_DIR"
}

push_image() {
    docker push "$IMAGE:$TAG"
    local line
    DIGEST=""
    while IFS= read -r line; do
        case "$line" in "$IMAGE@sha256:"*) DIGEST="${line#"$IMAGE@"}" ;; esac
    done < <(docker image inspect --format '{{range .RepoDigests}}{{println .}}{{end}}' "$IMAGE:$TAG")
    [[ "$DIGEST" =~ ^sha256:[a-f0-9]{64}$ ]] || die "pushed $IMAGE:$TAG but found no digest for it in 'docker image inspect'" 1
    say "pushed $IMAGE:$TAG ($DIGEST); the release pins that digest"
}

# ------------------------------------------------------------------ values: the script decides last

yaml_string() {
    local s="$1"
    case "$s" in *[[:cntrl:]]*) die "a value for the chart contains a control character" 2 ;; esac
    s="${s//\\/\\\\}"
    printf '"%s"' "${s//\"/\\\"}"
}

# A store without migrations gets no Job; a password from the environment goes into the values file.
store_values() {
    local key="$1" dir="$2" password="$3" with_passwords="$4"
    if [ -z "$dir" ]; then
        printf '%s:\n  enabled: false\n' "$key"
    elif [ "$with_passwords" = true ] && [ -n "$password" ]; then
        printf '%s:\n  env:\n    password: %s\n' "$key" "$(yaml_string "$password")"
    fi
}

# The script's own values file (0600, in the private work directory): passed after the user's files, and
# none of its keys can be given with --set (check_set), so the user cannot override what it decides.
# Passwords from the environment go here, never into an argument.
write_values() {
    local file="$WORK/deploy-values.yaml" with_passwords="$1"
    (
        umask 077
        {
            printf 'image:\n  repository: %s\n  tag: %s\n  digest: %s\n' \
                "$(yaml_string "$IMAGE")" "$(yaml_string "$TAG")" "$(yaml_string "${DIGEST:-}")"
            printf 'reset:\n  enabled: %s\n  token: %s\n  confirm:\n' "$RESET" "$(yaml_string "${TOKEN:-}")"
            printf '    postgresql: %s\n    cassandra: %s\n' \
                "$(yaml_string "${CONFIRM_postgresql:-}")" "$(yaml_string "${CONFIRM_cassandra:-}")"
            store_values postgresql "$PG_DIR" "${DEPLOY_POSTGRES_PASSWORD:-}" "$with_passwords"
            store_values cassandra "$CASS_DIR" "${DEPLOY_CASSANDRA_PASSWORD:-}" "$with_passwords"
        } >"$file"
    )
    VALUE_ARGS=()
    local f s
    for f in "${VALUES_FILES[@]+"${VALUES_FILES[@]}"}"; do VALUE_ARGS+=(-f "$f"); done
    VALUE_ARGS+=(-f "$file")
    for s in "${SETS[@]+"${SETS[@]}"}"; do VALUE_ARGS+=(--set "$s"); done
}

have_renderer() { "$PYTHON" -c 'import helm_python' >/dev/null 2>&1; }

# What a reset empties, as "key<TAB>target<TAB>kind<TAB>place" lines, from the merged values.
reset_targets() {
    if have_renderer; then
        "$PYTHON" "$HERE/render.py" --chart "$CHART" --reset-targets "${VALUE_ARGS[@]}"
    elif command -v helm >/dev/null 2>&1; then
        helm template "$RELEASE" "$CHART" --namespace "$NAMESPACE" "${VALUE_ARGS[@]}" | awk '
            /- name: PGDATABASE$/ && !pg { getline; sub(/^[[:space:]]*value:[[:space:]]*/, ""); gsub(/^"|"$/, "");
                                            print "postgresql\t" $0 "\tPostgreSQL database\t"; pg = 1 }
            /- name: CASSANDRA_KEYSPACE$/ && !c { getline; sub(/^[[:space:]]*value:[[:space:]]*/, ""); gsub(/^"|"$/, "");
                                            print "cassandra\t" $0 "\tCassandra keyspace\t"; c = 1 }'
    else
        return 1
    fi
}

describe_reset() {
    local where="" key target kind place
    if [ -n "${1:-}" ]; then where=" on cluster context '$1'"; fi
    say "--reset DESTROYS DATA of release '$RELEASE' in namespace '$NAMESPACE'$where: before migrating, the Jobs"
    say "  drop all data and schema, migration ledger included, of:"
    if [ -n "$TARGETS" ]; then
        while IFS=$'\t' read -r key target kind place; do
            say "    - $kind '$target'${place:+ on $place} (reset.confirm.$key)"
        done <<<"$TARGETS"
    else
        say "    - every schema the PostgreSQL user owns in its database (public is recreated empty)"
        say "    - the whole Cassandra keyspace (DROP KEYSPACE)"
    fi
    say "  then apply all migrations from scratch."
}

# Fills CONFIRM_<key> for every target: typed on the terminal, or taken as given with --yes; then a fresh token.
confirm_reset() {
    local key target kind place answer
    [ -n "$TARGETS" ] || die "cannot tell what --reset would empty (needs helm, or helm-python-sdk for $PYTHON); nothing was changed" 3
    while IFS=$'\t' read -r key target kind place <&3; do
        if [ "$YES" != true ]; then
            printf "Type the name of the %s '%s'%s to destroy it: " "$kind" "$target" "${place:+ on $place}" >&2
            answer=""
            read -r answer || true
            [ "$answer" = "$target" ] || die "confirmation did not match '$target'; nothing was changed." 4
        fi
        printf -v "CONFIRM_$key" '%s' "$target"
    done 3<<<"$TARGETS"
    TOKEN="reset-$(date -u +%Y%m%dT%H%M%SZ)-$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
}

# ------------------------------------------------------------------ main

check_inputs
[ -z "$BASE_IMAGE" ] || BASE_IMAGE_GIVEN=1
WORK="$(mktemp -d "${TMPDIR:-/tmp}/deploy.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
find_migrations
prepare_build
TARGETS=""

if [ "$DRY_RUN" = true ]; then
    write_values false
    if [ "$RESET" = true ]; then
        TARGETS="$(reset_targets)" || die "could not render the chart to find what --reset would empty" 1
        YES=true
        confirm_reset
        TOKEN="dry-run"
        write_values false
        say "dry run: rendering with reset enabled; nothing is destroyed by a dry run."
    fi
    if have_renderer; then
        exec "$PYTHON" "$HERE/render.py" --chart "$CHART" --release "$RELEASE" --namespace "$NAMESPACE" "${VALUE_ARGS[@]}"
    elif command -v helm >/dev/null 2>&1; then
        say "helm-python-sdk not found for $PYTHON; rendering with 'helm template' (Secret values are shown)"
        exec helm template "$RELEASE" "$CHART" --namespace "$NAMESPACE" "${VALUE_ARGS[@]}"
    fi
    die "--dry-run needs the Python package helm-python-sdk ($PYTHON -m pip install helm-python-sdk) or a helm binary" 3
fi

write_values true
# --reset with no way to confirm refuses first, whatever else is missing: it must never look as if it could go
# ahead. kubectl, when present, only reads the local kubeconfig to name the target cluster.
if [ "$RESET" = true ] && [ "$YES" != true ] && [ ! -t 0 ]; then
    context=""
    if command -v kubectl >/dev/null 2>&1; then context="$(kubectl config current-context 2>/dev/null || true)"; fi
    TARGETS="$(reset_targets 2>/dev/null || true)"
    describe_reset "$context"
    die "refusing --reset without confirmation: no terminal to ask on; pass --yes to confirm. Nothing was changed." 4
fi

missing=()
if { [ "$BUILD" = true ] || [ "$PUSH" = true ]; } && ! command -v docker >/dev/null 2>&1; then
    missing+=("docker (to build the image; install Docker, or pass --no-build if '$IMAGE:$TAG' is already available to the cluster)")
fi
command -v helm >/dev/null 2>&1 || missing+=("helm (Helm 3.8+ to install the chart; use --dry-run to only render the manifests without it)")
command -v kubectl >/dev/null 2>&1 || missing+=("kubectl (configured for the target cluster; used to check the cluster and show the Job logs)")
if [ "${#missing[@]}" -gt 0 ]; then
    for m in "${missing[@]}"; do say "error: missing $m"; done
    die "cannot deploy: ${#missing[@]} required tool(s) not found on PATH" 3
fi

KUBE_CONTEXT="$(kubectl config current-context 2>/dev/null)" \
    || die "kubectl has no current context; configure access to the cluster (kubectl config use-context NAME)" 3
if ! probe="$(kubectl --context "$KUBE_CONTEXT" --request-timeout=15s get --raw=/version 2>&1 >/dev/null)"; then
    die "no cluster reachable through kubectl context '$KUBE_CONTEXT': ${probe%%$'\n'*}" 3
fi

if [ "$RESET" = true ]; then
    TARGETS="$(reset_targets)" || die "could not render the chart to find what --reset would empty; nothing was changed" 1
    describe_reset "$KUBE_CONTEXT"
    confirm_reset
    [ "$YES" != true ] || say "--yes given: resetting without a prompt."
    say "reset token $TOKEN: a retried Job or a repeated upgrade with the same values does not reset again"
fi

say "deploying release '$RELEASE' to namespace '$NAMESPACE' on context '$KUBE_CONTEXT' with image $IMAGE:$TAG"
if [ "$BUILD" = true ]; then build_image; fi
if [ "$PUSH" = true ]; then push_image; fi
write_values true

# Job names as the chart makes them: the release cut to 42 characters, one trailing "-" trimmed.
JOB_PREFIX="${RELEASE:0:42}"
JOB_PREFIX="${JOB_PREFIX%-}"
show_logs() {
    local store
    for store in postgres cassandra; do
        kubectl --context "$KUBE_CONTEXT" logs --namespace "$NAMESPACE" "job/$JOB_PREFIX-$store-migrations" \
            --all-containers --tail=200 2>/dev/null || true
    done
}

if ! helm upgrade --install "$RELEASE" "$CHART" --kube-context "$KUBE_CONTEXT" \
        --namespace "$NAMESPACE" --create-namespace \
        --wait --timeout "$HELM_TIMEOUT" "${VALUE_ARGS[@]}"; then
    say "helm upgrade failed; logs of the migration Jobs follow (kubectl logs -n $NAMESPACE job/$JOB_PREFIX-postgres-migrations)"
    show_logs
    exit 1
fi
show_logs
if [ "$RUN_TEST" = true ]; then
    helm test "$RELEASE" --kube-context "$KUBE_CONTEXT" --namespace "$NAMESPACE" --timeout "$HELM_TIMEOUT" --logs \
        || die "helm test: the live schema differs from the migrations, or it could not be checked (logs above)" 1
fi
say "done: migrations applied for release '$RELEASE' in namespace '$NAMESPACE'."
