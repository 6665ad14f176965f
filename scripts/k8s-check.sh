#!/usr/bin/env bash
# Checks the Kubernetes manifests (deploy/kubernetes, docs/kubernetes.md) offline, with what Debian and npm serve:
#   - yamllint on every file (deploy/kubernetes/.yamllint);
#   - each overlay rendered by kustomize v2.0.3 (Debian's kubernetes-client 1.20, unpacked into .cache/, not
#     installed) and, when this machine has a kubectl, by its newer kustomize too;
#   - every rendered object checked against the published schema and types of its kind, custom resources
#     included (deploy/kubernetes/check: kubernetes-models, and the KEDA, Strimzi and Prometheus operator
#     packages, pinned in its package-lock.json); a field the type does not name fails;
#   - the secrets ./scripts/k8s-secrets.sh --dry-run prints, the same way;
#   - a self-test: a typo put into a Deployment (replica:) and into a ScaledObject's trigger must fail the check.
# The renders stay in deploy/kubernetes/check/target/<overlay>.yaml (KubernetesManifestsTest reads them).
# Exits 1 naming what failed.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

K8S="$DTS_ROOT/deploy/kubernetes"
CHECK="$K8S/check"
OUT="$CHECK/target"
OLD_KUBECTL_DIR="$DTS_ROOT/.cache/kubernetes-client"
OLD_KUBECTL="$OLD_KUBECTL_DIR/usr/bin/kubectl"

ensure_packages yamllint node:nodejs npm

log "yamllint deploy/kubernetes/{base,overlays}"
yamllint --strict -c "$K8S/.yamllint" "$K8S/base" "$K8S/overlays" || die "yamllint found problems (above)"

if [[ ! -x $OLD_KUBECTL ]]; then
  log "unpacking Debian's kubernetes-client (kubectl 1.20, kustomize v2.0.3) into $OLD_KUBECTL_DIR"
  mkdir -p "$OLD_KUBECTL_DIR"
  (cd "$OLD_KUBECTL_DIR" && apt-get download -qq kubernetes-client 2>/dev/null) ||
    { apt-get update -qq >/dev/null && (cd "$OLD_KUBECTL_DIR" && apt-get download -qq kubernetes-client 2>/dev/null); } ||
    die "apt-get could not download kubernetes-client"
  dpkg -x "$OLD_KUBECTL_DIR"/kubernetes-client_*.deb "$OLD_KUBECTL_DIR"
fi

if [[ ! -d $CHECK/node_modules ]] || [[ $CHECK/package-lock.json -nt $CHECK/node_modules ]]; then
  log "npm ci in $CHECK (node $(node --version))"
  (cd "$CHECK" && npm ci --no-audit --no-fund --loglevel=error) || die "npm ci failed in $CHECK"
fi

rm -rf "$OUT"
mkdir -p "$OUT"
renders=()
for overlay in "$K8S"/overlays/*/; do
  name="$(basename "$overlay")"
  "$OLD_KUBECTL" kustomize "$overlay" >"$OUT/$name.yaml" || die "kustomize v2.0.3 could not render $overlay"
  renders+=("$OUT/$name.yaml")
  if command -v kubectl >/dev/null 2>&1; then
    # Its warnings about the v2-compatible fields (bases, patchesStrategicMerge) are expected: they keep v2.0.3 working.
    kubectl kustomize "$overlay" 2>/dev/null >"$OUT/$name.newer.yaml" || die "kubectl kustomize could not render $overlay"
    renders+=("$OUT/$name.newer.yaml")
  fi
  log "rendered $name: $(grep -c '^kind:' "$OUT/$name.yaml") objects"
done

# The secrets ./scripts/k8s-secrets.sh makes, as it would apply them (with the old kubectl when there is no other).
PATH="$PATH:$OLD_KUBECTL_DIR/usr/bin" "$DTS_ROOT/scripts/k8s-secrets.sh" --dry-run >"$OUT/secrets.yaml" 2>/dev/null ||
  die "./scripts/k8s-secrets.sh --dry-run failed"
renders+=("$OUT/secrets.yaml")

log "validating ${#renders[@]} renders against the published schemas and types"
(cd "$CHECK" && node check.mjs "${renders[@]}") || die "the manifests do not validate (above)"
log "self-test: typos must fail the check"
(cd "$CHECK" && node check.mjs --self-test "$OUT/dev.yaml") || die "the check missed a typo (above)"
log "the Kubernetes manifests are valid"
