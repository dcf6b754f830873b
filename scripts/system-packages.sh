# Sourced by scripts/test: the Debian packages the deployment tests (tests/deployment) need, installed
# when missing. The tests start their own throw-away PostgreSQL 15 cluster and Redis broker on free
# loopback ports; installing must not start the system services. PostgreSQL refuses to run as root:
# as root the tests run initdb/pg_ctl as the user `nobody` (tests/deployment/services.py), so no
# database user or system service is needed. Without root (or apt-get) the deployment tests skip,
# saying what is missing.
ensure_system_packages() {
  local missing=()
  [ -x /usr/lib/postgresql/15/bin/initdb ] || missing+=(postgresql-15)
  command -v redis-server >/dev/null || missing+=(redis-server)
  command -v setpriv >/dev/null || missing+=(util-linux)
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    echo "==> not installing ${missing[*]} (needs root and apt-get): the deployment tests will skip" >&2
    return 0
  fi
  echo "==> installing ${missing[*]} (Debian packages, for the deployment tests)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  local added_policy=""
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
    added_policy=1
  fi
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
  [ -z "$added_policy" ] || rm -f /usr/sbin/policy-rc.d
}
