#!/usr/bin/env bash
# Starts PostgreSQL and Redis on 127.0.0.1 when they are installed but not running,
# and makes sure the tests can log in to PostgreSQL as `postgres`.
set -euo pipefail

PG_PORT=${PG_PORT:-5432}
REDIS_PORT=${REDIS_PORT:-6379}

wait_for() {  # wait_for DESCRIPTION COMMAND...: poll for up to 30 s
    local what=$1; shift
    for _ in $(seq 1 60); do
        if "$@" >/dev/null 2>&1; then return 0; fi
        sleep 0.5
    done
    echo "$what did not come up" >&2
    return 1
}

pg_up() { pg_isready -q -h 127.0.0.1 -p "$PG_PORT"; }

if ! pg_up; then
    if command -v pg_ctlcluster >/dev/null; then
        version=$(ls /etc/postgresql | sort -V | tail -n 1)
        echo "starting PostgreSQL $version"
        pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
        wait_for PostgreSQL pg_up
    else
        echo "PostgreSQL is not installed (run: make system)" >&2
        exit 1
    fi
fi

# A fresh Debian cluster asks for passwords over TCP; give `postgres` the one
# the Makefile exports (trust setups ignore it).
if ! PGPASSWORD=${PGPASSWORD:-postgres} psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres \
        -w -qtAc 'SELECT 1' >/dev/null 2>&1; then
    echo "setting a password for the postgres role so the tests can connect over TCP"
    runuser -u postgres -- psql -qc "ALTER ROLE postgres PASSWORD '${PGPASSWORD:-postgres}'"
fi

redis_up() { redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping | grep -q PONG; }

if ! redis_up; then
    if command -v redis-server >/dev/null; then
        echo "starting Redis on port $REDIS_PORT"
        redis-server --daemonize yes --bind 127.0.0.1 --port "$REDIS_PORT" --save "" \
            --appendonly no --dir /tmp --logfile /tmp/livevent-redis.log
        wait_for Redis redis_up
    else
        echo "Redis is not installed (run: make system)" >&2
        exit 1
    fi
fi
