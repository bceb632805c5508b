# Sourced by .ci/run (and usable by hand): installs PostgreSQL from Debian's packages if missing, starts a
# throwaway cluster on loopback, and exports SCIM_TEST_POSTGRES_URL (plus what the restart tests need).
pg_bin_dir() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1; }
if [ -z "$(pg_bin_dir)" ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq postgresql >/dev/null
fi
SCIM_TEST_PGBIN="$(pg_bin_dir)"
SCIM_TEST_PGDATA="$(mktemp -d /tmp/scim-bridge-pg.XXXXXX)"
SCIM_TEST_PGPORT="${SCIM_TEST_PGPORT:-55432}"
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
[ "$(id -u)" = 0 ] && chown postgres "$SCIM_TEST_PGDATA"
as_pg "$SCIM_TEST_PGBIN/initdb" -D "$SCIM_TEST_PGDATA" -A trust -U postgres >/dev/null
as_pg "$SCIM_TEST_PGBIN/pg_ctl" -D "$SCIM_TEST_PGDATA" -w -l "$SCIM_TEST_PGDATA/server.log" \
  -o "-p $SCIM_TEST_PGPORT -k /tmp -c listen_addresses=127.0.0.1 -c max_connections=200 -c fsync=on" start >/dev/null
export SCIM_TEST_PGBIN SCIM_TEST_PGDATA SCIM_TEST_PGPORT
export SCIM_TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:$SCIM_TEST_PGPORT/postgres"
stop_test_postgres() { as_pg "$SCIM_TEST_PGBIN/pg_ctl" -D "$SCIM_TEST_PGDATA" -m fast stop >/dev/null 2>&1 || true; }
echo "PostgreSQL $("$SCIM_TEST_PGBIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$SCIM_TEST_PGPORT"
