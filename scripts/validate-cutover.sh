#!/usr/bin/env bash
# Seed 003's cutover validation entry point, mapped onto `runtime-gate validate`.
#
#   STAGING_RUNTIME_BASE_URL=https://... PROD_RUNTIME_BASE_URL=https://... \
#   RUNTIME_GATE_INTERNAL_TOKEN=env-or-file-ref FAIL_ON_REQUIRED_FAILURE=1 \
#   scripts/validate-cutover.sh [extra validate flags...]
#
# FAIL_ON_REQUIRED_FAILURE=0 is for pre-cutover baseline capture only (--mode baseline:
# the same report, and a NO-GO exits 0). It relaxes NO-GO only: a target that could not be
# evaluated (unreachable, credentials refused, never ready) still exits 3, and a usage error 2.
# Production gate decisions run with 1 (the default).
# Exit status over both environments: 0 when every one is GO (or recorded in baseline mode);
# otherwise 2 if any run had a usage error, else 1 if any was NO-GO, else 3.
# Per-environment credentials: STAGING_RUNTIME_INTERNAL_TOKEN / PROD_RUNTIME_INTERNAL_TOKEN
# (else RUNTIME_GATE_INTERNAL_TOKEN), STAGING_EXPECTED_BUILD_SHA / PROD_EXPECTED_BUILD_SHA.
set -euo pipefail
cd "$(dirname "$0")/.."

case "${FAIL_ON_REQUIRED_FAILURE:-1}" in
  1) mode=gate ;;
  0) mode=baseline ;;
  *) echo "validate-cutover: FAIL_ON_REQUIRED_FAILURE must be 0 or 1" >&2; exit 2 ;;
esac

stamp=$(date -u +%Y%m%dT%H%M%SZ)
ran=0
status=0
for env in STAGING PROD; do
  url_var="${env}_RUNTIME_BASE_URL"
  url="${!url_var:-}"
  [ -n "$url" ] || { echo "validate-cutover: ${url_var} not set; skipping ${env,,}"; continue; }
  token_var="${env}_RUNTIME_INTERNAL_TOKEN"
  sha_var="${env}_EXPECTED_BUILD_SHA"
  # Reports are never overwritten: a second run within the same second gets its own folder.
  out="reports/${stamp}-${env,,}"
  n=1
  while [ -e "$out" ]; do n=$((n + 1)); out="reports/${stamp}-${env,,}-${n}"; done
  args=(validate --target "$url" --mode "$mode" --out "$out")
  # An env: reference, so the token never shows on a command line (ps).
  if [ -n "${!token_var:-}" ]; then export "${token_var?}"; args+=(--internal-token "env:${token_var}"); fi
  [ -n "${!sha_var:-}" ] && args+=(--expected-build-sha "${!sha_var}")
  echo "validate-cutover: ${env,,} ${url} (mode ${mode})"
  ran=$((ran + 1))
  code=0
  node bin/runtime-gate.mjs "${args[@]}" "$@" || code=$?
  case "$code" in
    0) ;;
    2) status=2 ;;
    1) [ "$status" = 2 ] || status=1 ;;
    *) [ "$status" != 0 ] || status=$code ;;
  esac
done
if [ "$ran" -eq 0 ]; then
  echo "validate-cutover: set STAGING_RUNTIME_BASE_URL and/or PROD_RUNTIME_BASE_URL" >&2
  exit 2
fi
exit "$status"
