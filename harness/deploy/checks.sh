# Input checks of deploy.sh (sourced by it): nothing runs before these pass. Values a user gives may not decide
# what the script decides (the image, reset) nor put a password on a command line; names are what Docker, Helm
# and Kubernetes accept, so no value can smuggle in another option or key.
# shellcheck shell=bash

# Docker's grammar: a tag is one word; a repository has lower-case path components and an optional registry.
TAG_RE='^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$'
PATH_COMPONENT='[a-z0-9]+(([._]|__|-+)[a-z0-9]+)*'
REGISTRY='([A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*(:[0-9]+)?/)'
IMAGE_RE="^$REGISTRY?$PATH_COMPONENT(/$PATH_COMPONENT)*\$"
DNS_LABEL='^[a-z0-9]([-a-z0-9]*[a-z0-9])?$'

check_inputs() {
    [[ "$IMAGE" =~ $IMAGE_RE ]] && [ "${#IMAGE}" -le 255 ] \
        || die "--image '$IMAGE' is not an image repository (registry/path, lower case, no tag: use --tag)" 2
    if [ -n "$TAG" ]; then
        [[ "$TAG" =~ $TAG_RE ]] || die "--tag '$TAG' is not a valid image tag (letters, digits, '_', '.', '-'; at most 128)" 2
    fi
    if [ -n "$BASE_IMAGE" ]; then
        [[ "$BASE_IMAGE" =~ ^[A-Za-z0-9._/:@-]+$ ]] || die "--base-image '$BASE_IMAGE' is not an image reference" 2
    fi
    [[ "$RELEASE" =~ $DNS_LABEL ]] && [ "${#RELEASE}" -le 53 ] \
        || die "--release '$RELEASE' is not a Helm release name (lower case letters, digits, '-'; at most 53)" 2
    [[ "$NAMESPACE" =~ $DNS_LABEL ]] && [ "${#NAMESPACE}" -le 63 ] \
        || die "--namespace '$NAMESPACE' is not a namespace name (lower case letters, digits, '-'; at most 63)" 2
    [[ "$HELM_TIMEOUT" =~ ^([0-9]+(ms|s|m|h))+$ ]] || die "--timeout '$HELM_TIMEOUT' is not a duration such as 15m" 2
    [ -f "$CHART/Chart.yaml" ] || die "chart '$CHART' has no Chart.yaml" 2
    [ -d "$REPO" ] || die "repository '$REPO' is not a directory" 2
    local file set
    for file in "${VALUES_FILES[@]+"${VALUES_FILES[@]}"}"; do check_values_file "$file"; done
    for set in "${SETS[@]+"${SETS[@]}"}"; do check_set "$set"; done
}

# A values file may set anything but reset: only --reset, after its guard, resets.
check_values_file() {
    [ -f "$1" ] || die "values file '$1' does not exist" 2
    if grep -Eiq '(^|[{,])[[:space:]]*("reset"|'"'"'reset'"'"'|reset)[[:space:]]*:' "$1"; then
        die "values file '$1' sets 'reset': use --reset (with its confirmation) instead" 2
    fi
}

# One --set expression, split on Helm's unescaped commas: every key is checked, so
# 'image.pullPolicy=Always,reset.enabled=true' is refused like 'reset.enabled=true'.
check_set() {
    local expr="$1" part key lower
    local parts=()
    expr="${expr//\\\\/$'\x01'}"    # \\ is a literal backslash, not an escape
    expr="${expr//\\,/$'\x02'}"     # \, is a comma inside a value
    IFS=',' read -r -a parts <<<"$expr"
    for part in "${parts[@]+"${parts[@]}"}"; do
        key="${part%%=*}"
        key="${key//\\/}"
        key="${key//[[:space:]]/}"
        lower="$(printf '%s' "$key" | tr '[:upper:]' '[:lower:]')"
        case "$lower" in
            reset|reset.*|reset\[*)
                die "--set $key: use --reset (with its confirmation) instead; reset cannot be set directly" 2 ;;
            *password*)
                die "--set $key: a password on the command line shows in 'ps'; put it in a values file (-f), in DEPLOY_POSTGRES_PASSWORD / DEPLOY_CASSANDRA_PASSWORD, or in existingSecret" 2 ;;
            image.pullpolicy) ;;
            image|image.*|image\[*)
                die "--set $key: the image is set by --image, --tag and --push" 2 ;;
        esac
    done
}
