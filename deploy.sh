#!/usr/bin/env bash
# Build the applier image and deploy the migration Jobs with Helm.
#
#   ./deploy.sh                      build the image, helm upgrade --install --wait (migrations run as hooks)
#   ./deploy.sh --reset              the same, but each Job first DROPS everything in its database/keyspace;
#                                    asks you to type the release name (or pass --yes in automation)
#   ./deploy.sh --dry-run            print the manifests; no docker, helm or cluster is touched
#
# Run ./deploy.sh --help for every option. Environment defaults: NAMESPACE, RELEASE, IMAGE, TAG,
# VALUES_FILE, BASE_IMAGE, HELM_TIMEOUT, PYTHON.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CHART="$ROOT/helm/migrations"
RENDER="$ROOT/deploy/render.py"

NAMESPACE="${NAMESPACE:-default}"
RELEASE="${RELEASE:-migrations}"
IMAGE="${IMAGE:-migrations-harness}"
TAG="${TAG:-}"
VALUES_FILE="${VALUES_FILE:-}"
BASE_IMAGE="${BASE_IMAGE:-}"
HELM_TIMEOUT="${HELM_TIMEOUT:-15m}"
PYTHON="${PYTHON:-python3}"
RESET=false
YES=false
DRY_RUN=false
BUILD=true
PUSH=false
SETS=()

usage() {
    cat <<'EOF'
Usage: ./deploy.sh [options]

Build the applier image and run the migrations as Kubernetes Jobs (Helm pre-install/pre-upgrade hooks).

Options:
  -n, --namespace NS     Kubernetes namespace (default: default; created if missing)
  -r, --release NAME     Helm release name (default: migrations)
  -f, --values FILE      values file for helm/migrations (database hosts, credentials, ...)
  -t, --tag TAG          image tag (default: git short commit, else "dev")
  -i, --image REPO       image repository (default: migrations-harness)
      --base-image IMG   base image for the Docker build (build arg BASE_IMAGE)
      --set KEY=VALUE    extra helm --set (repeatable)
      --no-build         do not build the image (it already exists in the registry/cluster)
      --push             docker push the image after building it
      --timeout DUR      helm --timeout (default: 15m)
      --reset            DESTROY all data: each Job resets its database/keyspace before migrating;
                         asks for the release name to be typed, unless --yes
  -y, --yes              confirm --reset without a prompt (automation)
      --dry-run          render and print the manifests only (no docker, helm or kubectl needed;
                         uses helm-python-sdk when installed, else `helm template`); passwords redacted
  -h, --help             show this help
EOF
}

say() { printf 'deploy.sh: %s\n' "$*" >&2; }
die() { printf 'deploy.sh: error: %s\n' "$1" >&2; exit "${2:-1}"; }

need_value() { [ "$#" -ge 2 ] && [ -n "$2" ] || die "option $1 needs a value (see --help)" 2; }

while [ "$#" -gt 0 ]; do
    case "$1" in
        -n|--namespace) need_value "$@"; NAMESPACE="$2"; shift 2 ;;
        -r|--release) need_value "$@"; RELEASE="$2"; shift 2 ;;
        -f|--values) need_value "$@"; VALUES_FILE="$2"; shift 2 ;;
        -t|--tag) need_value "$@"; TAG="$2"; shift 2 ;;
        -i|--image) need_value "$@"; IMAGE="$2"; shift 2 ;;
        --base-image) need_value "$@"; BASE_IMAGE="$2"; shift 2 ;;
        --set) need_value "$@"; SETS+=("$2"); shift 2 ;;
        --timeout) need_value "$@"; HELM_TIMEOUT="$2"; shift 2 ;;
        --no-build) BUILD=false; shift ;;
        --push) PUSH=true; shift ;;
        --reset) RESET=true; shift ;;
        -y|--yes) YES=true; shift ;;
        --dry-run) DRY_RUN=true; shift ;;
        -h|--help) usage; exit 0 ;;
        *) die "unknown option '$1' (see --help)" 2 ;;
    esac
done

if [ -n "$VALUES_FILE" ] && [ ! -f "$VALUES_FILE" ]; then
    die "values file '$VALUES_FILE' does not exist" 2
fi
# Every build of different migrations needs a different tag: with pullPolicy IfNotPresent a node
# that already has a tag never pulls it again. A dirty work tree therefore gets a time-stamped tag.
if [ -z "$TAG" ]; then
    TAG="$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || true)"
    if [ -n "$TAG" ] && [ -n "$(git -C "$ROOT" status --porcelain 2>/dev/null || true)" ]; then
        TAG="$TAG-dirty-$(date -u +%Y%m%d%H%M%S)"
    fi
    TAG="${TAG:-dev}"
fi

# Helm arguments shared by the dry run and the real deploy. reset is always set explicitly, so a
# `reset: true` left in a values file can never destroy data without --reset and its confirmation.
HELM_ARGS=(--set "image.repository=$IMAGE" --set "image.tag=$TAG" --set "reset=$RESET")
if [ -n "$VALUES_FILE" ]; then
    HELM_ARGS=(-f "$VALUES_FILE" "${HELM_ARGS[@]}")
fi
for s in "${SETS[@]+"${SETS[@]}"}"; do
    case "$s" in reset=*) die "use --reset (with its confirmation) instead of --set $s" 2 ;; esac
    HELM_ARGS+=(--set "$s")
done

# The --set/-f arguments for deploy/render.py, taken from HELM_ARGS.
render_args() {
    local i
    RENDER_ARGS=()
    if [ -n "$VALUES_FILE" ]; then RENDER_ARGS+=(-f "$VALUES_FILE"); fi
    for ((i = 0; i < ${#HELM_ARGS[@]}; i++)); do
        if [ "${HELM_ARGS[$i]}" = --set ]; then RENDER_ARGS+=(--set "${HELM_ARGS[$((i + 1))]}"); fi
    done
}

have_renderer() { "$PYTHON" -c 'import helm_python' >/dev/null 2>&1; }

describe_reset() {
    local source="${VALUES_FILE:-the default values}" where="" targets="" line
    if [ -n "${1:-}" ]; then where=" on cluster context '$1'"; fi
    say "--reset DESTROYS DATA of release '$RELEASE' in namespace '$NAMESPACE'$where: before migrating,"
    say "  the Jobs drop all data and schema, migration ledger included, configured in $source:"
    if have_renderer; then
        render_args
        targets="$("$PYTHON" "$RENDER" --reset-targets "${RENDER_ARGS[@]}" 2>/dev/null || true)"
    fi
    if [ -n "$targets" ]; then
        while IFS= read -r line; do say "    - $line"; done <<<"$targets"
    else
        say "    - every schema the PostgreSQL user owns in its database (public is recreated empty)"
        say "    - the whole Cassandra keyspace (DROP KEYSPACE)"
    fi
    say "  then apply all migrations from scratch."
}

if [ "$DRY_RUN" = true ]; then
    if [ "$RESET" = true ]; then
        say "dry run: rendering with reset=true; nothing is destroyed by a dry run."
    fi
    if have_renderer; then
        render_args
        exec "$PYTHON" "$RENDER" --release "$RELEASE" --namespace "$NAMESPACE" "${RENDER_ARGS[@]}"
    elif command -v helm >/dev/null 2>&1; then
        say "helm-python-sdk not found for $PYTHON; rendering with 'helm template' (Secret values are shown)"
        exec helm template "$RELEASE" "$CHART" --namespace "$NAMESPACE" "${HELM_ARGS[@]}"
    else
        die "--dry-run needs the Python package helm-python-sdk ($PYTHON -m pip install helm-python-sdk) or a helm binary" 3
    fi
fi

# --reset with no way to confirm refuses first, whatever else is missing: it must never look as if it
# could go ahead. kubectl, when present, only reads the local kubeconfig to name the target cluster.
if [ "$RESET" = true ] && [ "$YES" != true ] && [ ! -t 0 ]; then
    context=""
    if command -v kubectl >/dev/null 2>&1; then
        context="$(kubectl config current-context 2>/dev/null || true)"
    fi
    describe_reset "$context"
    die "refusing --reset without confirmation: no terminal to ask on; pass --yes to confirm. Nothing was changed." 4
fi

# A real deploy: every tool must be there before anything is built or changed.
missing=()
if [ "$BUILD" = true ] && ! command -v docker >/dev/null 2>&1; then
    missing+=("docker (to build the image; install Docker, or pass --no-build if the image '$IMAGE:$TAG' is already available to the cluster)")
fi
if ! command -v helm >/dev/null 2>&1; then
    missing+=("helm (Helm 3.8+ to install the chart; use --dry-run to only render the manifests without it)")
fi
if ! command -v kubectl >/dev/null 2>&1; then
    missing+=("kubectl (configured for the target cluster; used to check the context and show the Job logs)")
fi
if [ "${#missing[@]}" -gt 0 ]; then
    for m in "${missing[@]}"; do say "error: missing $m"; done
    die "cannot deploy: ${#missing[@]} required tool(s) not found on PATH" 3
fi

CONTEXT="$(kubectl config current-context 2>/dev/null)" \
    || die "kubectl has no current context; configure access to the cluster (kubectl config use-context NAME)" 3

if [ "$RESET" = true ]; then
    describe_reset "$CONTEXT"
    if [ "$YES" = true ]; then
        say "--yes given: resetting without a prompt."
    else
        printf "Type the release name '%s' to destroy its data and continue: " "$RELEASE" >&2
        answer=""
        read -r answer || true
        [ "$answer" = "$RELEASE" ] || die "confirmation did not match '$RELEASE'; nothing was changed." 4
    fi
fi

say "deploying release '$RELEASE' to namespace '$NAMESPACE' on context '$CONTEXT' with image $IMAGE:$TAG"

if [ "$BUILD" = true ]; then
    BUILD_ARGS=(build --tag "$IMAGE:$TAG")
    if [ -n "$BASE_IMAGE" ]; then BUILD_ARGS+=(--build-arg "BASE_IMAGE=$BASE_IMAGE"); fi
    docker "${BUILD_ARGS[@]}" "$ROOT"
    if [ "$PUSH" = true ]; then docker push "$IMAGE:$TAG"; fi
fi

# Job names as the chart makes them: the release cut to 42 characters, one trailing "-" trimmed.
JOB_PREFIX="${RELEASE:0:42}"
JOB_PREFIX="${JOB_PREFIX%-}"

show_logs() {
    local store
    for store in postgres cassandra; do
        kubectl logs --namespace "$NAMESPACE" "job/$JOB_PREFIX-$store-migrations" --all-containers --tail=200 \
            2>/dev/null || true
    done
}

if ! helm upgrade --install "$RELEASE" "$CHART" \
        --namespace "$NAMESPACE" --create-namespace \
        --wait --timeout "$HELM_TIMEOUT" "${HELM_ARGS[@]}"; then
    say "helm upgrade failed; logs of the migration Jobs follow (kubectl logs -n $NAMESPACE job/$JOB_PREFIX-postgres-migrations)"
    show_logs
    exit 1
fi
show_logs
say "done: migrations applied for release '$RELEASE' in namespace '$NAMESPACE'."
