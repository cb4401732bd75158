#!/usr/bin/env bash
# The Debian/Ubuntu packages the test suite runs, in one place:
#   bash .ci/system-packages.sh check     prints the missing ones (nothing when all are there)
#   bash .ci/system-packages.sh install   installs the missing ones with apt-get (sudo unless root)
# `npm run setup` runs `install`; the suite's global setup runs `check` and, when something is
# missing, fails at once naming `npm run setup` (test/support/system-packages.ts); .ci/run runs
# `install`.
set -euo pipefail

missing=()
# redis-server: the Redis store suites and every multi-process test.
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
# Go: the bench's load generator and the Go tools the suite installs (grpcurl, kubectl-validate…).
command -v go >/dev/null 2>&1 || missing+=(golang-go)
# Chromium: the approval page's browser test (playwright-core drives Debian's build).
[ -x /usr/bin/chromium ] || missing+=(chromium)
# nginx: the sidecar's forward-auth test runs the shipped infra/nginx config in front of an app.
[ -x /usr/sbin/nginx ] || missing+=(nginx)
# prometheus: its promtool checks the alert rules and the compose Prometheus config.
[ -x /usr/bin/promtool ] || missing+=(prometheus)
# python3 with venv and pip: the Python tools the suite installs (hadolint).
python3 -c 'import ensurepip, venv' >/dev/null 2>&1 || missing+=(python3-venv)

case "${1:-}" in
  check)
    if [ "${#missing[@]}" -gt 0 ]; then echo "${missing[*]}"; fi
    ;;
  install)
    if [ "${#missing[@]}" -eq 0 ]; then
      echo "system packages: all present"
      exit 0
    fi
    sudo=()
    [ "$(id -u)" -eq 0 ] || sudo=(sudo)
    echo "system packages: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    "${sudo[@]}" apt-get update -qq
    "${sudo[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
    ;;
  *)
    echo "usage: $0 check|install" >&2
    exit 2
    ;;
esac
