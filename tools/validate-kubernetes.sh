#!/usr/bin/env bash
# Validates Kubernetes manifests against the Kubernetes OpenAPI schema (strict: unknown fields fail) with
# kubernetes-validate from PyPI, in a throwaway venv. Default: the repository's cluster/kubernetes/*.yaml.
#   tools/validate-kubernetes.sh [FILE.yaml ...]
# KUBERNETES_VERSION picks the schema (default 1.30.0: backoffLimitPerIndex is beta, on by default, since 1.29).
set -euo pipefail
cd "$(dirname "$0")/.."
files=("$@")
((${#files[@]})) || files=(cluster/kubernetes/*.yaml)
venv="$(mktemp -d)"
trap 'rm -rf "$venv"' EXIT
python3 -m venv "$venv" || { echo "error: python3 -m venv failed (install python3-venv)" >&2; exit 1; }
"$venv/bin/pip" install -q --disable-pip-version-check "kubernetes-validate==1.37.0" \
  || { echo "error: cannot install kubernetes-validate from PyPI (no network to PyPI?)" >&2; exit 1; }
"$venv/bin/kubernetes-validate" --strict -k "${KUBERNETES_VERSION:-1.30.0}" "${files[@]}"
