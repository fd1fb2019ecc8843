#!/usr/bin/env bash
# Debian packages the tests need that a fresh machine may lack. Idempotent: installs only what is missing.
#   bash scripts/install-system-deps.sh                 everything (CI, a new developer machine)
#   bash scripts/install-system-deps.sh redis kustomize only these (what `npm test` needs; its global set-up calls this)
# Names: chromium, keycloak (java, maven, unzip), redis, postgres (Debian's postgresql server), kustomize,
# kube-score (the manifest linter; built with Go into ~/.cache/graphql-inference-gateway/bin).
set -euo pipefail
wanted=("$@")
[ ${#wanted[@]} -eq 0 ] && wanted=(chromium keycloak redis postgres kustomize kube-score)
missing=()
for want in "${wanted[@]}"; do
  case "$want" in
    chromium) command -v chromium >/dev/null || missing+=(chromium) ;;
    keycloak)
      command -v unzip >/dev/null || missing+=(unzip)
      command -v mvn >/dev/null || missing+=(maven)
      command -v java >/dev/null || missing+=(openjdk-17-jre-headless) ;;
    redis) command -v redis-server >/dev/null || missing+=(redis-server) ;;
    postgres) compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null || missing+=(postgresql) ;;
    kustomize | kube-score) ;;
    *) echo "install-system-deps: unknown name '$want' (chromium, keycloak, redis, postgres, kustomize, kube-score)" >&2; exit 2 ;;
  esac
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then
    if sudo -n true 2>/dev/null; then SUDO="sudo"; else
      echo "missing Debian packages: ${missing[*]}; installing them needs root or password-less sudo:" >&2
      echo "  sudo apt-get install ${missing[*]}" >&2
      exit 1
    fi
  fi
  echo "installing Debian packages: ${missing[*]} (apt-get; once per machine)"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# kustomize renders k8s/ for the manifest tests. kubectl bundles it; Debian's own kubernetes-client is
# too old, so without kubectl build kustomize from the Go module proxy.
if [[ " ${wanted[*]} " == *" kustomize "* ]] && ! command -v kubectl >/dev/null && ! command -v kustomize >/dev/null; then
  command -v go >/dev/null || { echo "kustomize is missing and Go is not installed to build it: install kubectl or kustomize" >&2; exit 1; }
  echo "installing kustomize (go install, once per machine)"
  GOBIN=/usr/local/bin go install sigs.k8s.io/kustomize/kustomize/v5@v5.5.0
fi

# kube-score lints the rendered overlays (test/k8s-prod.test.ts). No Debian package: built from the Go
# module proxy, once, into a cache directory the tests look in (or set KUBE_SCORE to a binary).
KUBE_SCORE_VERSION=v1.20.0
KUBE_SCORE_BIN="${XDG_CACHE_HOME:-$HOME/.cache}/graphql-inference-gateway/bin"
if [[ " ${wanted[*]} " == *" kube-score "* ]] && [ -z "${KUBE_SCORE:-}" ] && [ ! -x "$KUBE_SCORE_BIN/kube-score" ]; then
  GO=$(command -v go || { [ -x /usr/local/go/bin/go ] && echo /usr/local/go/bin/go; } || true)
  if [ -z "$GO" ]; then
    echo "kube-score is missing and Go is not installed to build it: install Go >= 1.22 (https://go.dev/dl/)," >&2
    echo "or put a kube-score $KUBE_SCORE_VERSION binary at $KUBE_SCORE_BIN/kube-score (or set KUBE_SCORE to one)" >&2
    exit 1
  fi
  echo "installing kube-score $KUBE_SCORE_VERSION into $KUBE_SCORE_BIN (go install, once per machine; about a minute)"
  mkdir -p "$KUBE_SCORE_BIN"
  GOBIN="$KUBE_SCORE_BIN" "$GO" install "github.com/zegl/kube-score/cmd/kube-score@$KUBE_SCORE_VERSION"
fi
