#!/usr/bin/env bash
# Debian packages the tests need that a fresh machine may lack. Idempotent: installs only what is missing.
set -euo pipefail
missing=()
command -v chromium >/dev/null || missing+=(chromium)
command -v unzip >/dev/null || missing+=(unzip)
command -v mvn >/dev/null || missing+=(maven)
command -v java >/dev/null || missing+=(openjdk-17-jre-headless)
command -v redis-server >/dev/null || missing+=(redis-server)
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
# kustomize renders k8s/ for the manifest tests. kubectl bundles it; Debian's own kubernetes-client is
# too old, so without kubectl build kustomize from the Go module proxy.
if ! command -v kubectl >/dev/null && ! command -v kustomize >/dev/null; then
  echo "installing kustomize"
  GOBIN=/usr/local/bin go install sigs.k8s.io/kustomize/kustomize/v5@v5.5.0
fi
echo "system dependencies ready"

