# syntax=docker/dockerfile:1
#
# musicstream: a Swift server (librdkafka + libevent) that serves the dashboard, REST API and SSE,
# and keeps every listen in a history store (SQLite in the data directory, or PostgreSQL).
#
#   docker build -t musicstream .
#   docker run --rm -p 5000:5000 -e MUSICSTREAM_BROKERS=broker:9092 \
#     -v musicstream-data:/var/lib/musicstream musicstream      (the SQLite history lives in the volume)
#   docker compose up          (Kafka + topic + PostgreSQL + server + simulator; see docs/DEPLOYMENT.md)
#
# Both stages are Debian 12 (bookworm), the platform the project is developed and tested on.
# librdkafka must be >= 2.2 (older versions skip KIP-482 tagged fields one byte short and cannot
# finish the ApiVersions handshake with brokers that send them, KRaft brokers among them), and
# Debian 12's librdkafka-dev is 2.0.2. So the build stage builds librdkafka 2.8.0 (Debian 13's
# source) with the repository's own scripts/librdkafka-2.8, exactly as on a developer machine, and
# the runtime stage gets that very library copied over: the headers compiled against and the
# library loaded at run time are the same build. There is no official Swift image on Debian 13
# (trixie) to build on, and a bookworm runtime also keeps the vendored page assets
# (libjs-bootstrap5 5.2.3, libjs-chart.js 3.9.1 at the paths the page requests) identical to the
# ones the browser tests run against.

# --- build ------------------------------------------------------------------------------------
# swift:6.3.1-bookworm: Package.swift needs tools-version 6.0 (Swift 6 language mode); 6.3.1 is the
# toolchain the test suite runs with, on the same Debian release as the runtime stage below.
FROM swift:6.3.1-bookworm AS build

# libsqlite3-dev and libpq-dev: Package.swift's CSQLite and CPostgres targets find sqlite3 and libpq
# through pkg-config (the history stores); both link dynamically, like libevent.
RUN export DEBIAN_FRONTEND=noninteractive \
 && apt-get update -qq \
 && apt-get install -y -qq --no-install-recommends \
      pkg-config libevent-dev build-essential dpkg-dev libssl-dev zlib1g-dev ca-certificates \
      libsqlite3-dev libpq-dev \
 && rm -rf /var/lib/apt/lists/*

# librdkafka 2.8.0 into /usr/local (pkg-config finds it there; the script skips nothing here
# because no librdkafka-dev is installed).
COPY scripts/librdkafka-2.8 /usr/local/bin/librdkafka-2.8
RUN /usr/local/bin/librdkafka-2.8 \
 && test "$(pkg-config --modversion rdkafka)" = "2.8.0"

WORKDIR /src
# Dependencies first, so source edits do not refetch them. Package.resolved is not committed;
# the wildcard lets the build go on without it.
COPY Package.swift Package.resolved* ./
RUN swift package resolve
COPY Sources ./Sources
# SwiftPM checks every declared target's directory when it loads the package, test targets too.
COPY Tests ./Tests
# Swift runtime and Foundation linked statically: the runtime stage needs no Swift toolchain.
RUN swift build -c release --static-swift-stdlib --product musicstream \
 && install -D -m 0755 "$(swift build -c release --static-swift-stdlib --show-bin-path)/musicstream" /out/musicstream

# --- runtime ----------------------------------------------------------------------------------
# debian:12.12-slim: Debian 12 point release, same glibc and libevent as the build stage.
FROM debian:12.12-slim AS runtime

# Runtime libraries only: libevent (+ pthreads), what librdkafka links (libssl3, zlib), the C++
# runtime the static Swift runtime needs, the history stores' client libraries (libsqlite3-0 and
# libpq5, the runtime halves of the build stage's -dev packages), the page's vendored assets, CA
# certificates for TLS to Kafka and PostgreSQL, and curl for the health check.
RUN export DEBIAN_FRONTEND=noninteractive \
 && apt-get update -qq \
 && apt-get install -y -qq --no-install-recommends \
      ca-certificates curl \
      libevent-2.1-7 libevent-pthreads-2.1-7 \
      libssl3 zlib1g libstdc++6 libgcc-s1 \
      libsqlite3-0 libpq5 \
      libjs-bootstrap5 libjs-chart.js \
 && rm -rf /var/lib/apt/lists/*

# The librdkafka the binary was compiled against (2.8.0; soname librdkafka.so.1).
COPY --from=build /usr/local/lib/librdkafka.so.1 /usr/local/lib/librdkafka.so.1
RUN ldconfig

RUN groupadd --system --gid 10001 musicstream \
 && useradd --system --uid 10001 --gid musicstream --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin musicstream

WORKDIR /app
COPY --from=build /out/musicstream /app/musicstream
# The page, and the OpenAPI description the server looks for next to the page's directory.
COPY Public /app/Public
COPY openapi.yaml /app/openapi.yaml

# The SQLite history's directory (the default store; --data-dir's default, ./data, would be
# /app/data, which the unprivileged user cannot create). Made here, owned by that user with the mode
# the server itself would give it, before VOLUME: Docker copies this owner and mode into an empty
# named volume the first time one is mounted here, and a volume keeps the history across container
# restarts and image upgrades (`docker run -v musicstream-data:/var/lib/musicstream ...`). Without
# a mount Docker makes an anonymous volume, so the history still stays out of the container layer.
# A bind mount keeps the host directory's owner: it must be writable by uid 10001.
RUN install -d -o 10001 -g 10001 -m 0700 /var/lib/musicstream
VOLUME /var/lib/musicstream

# Listen on every interface inside the container; the page directory; the history's directory.
# Flags override all of them; MUSICSTREAM_HISTORY=postgres://... (compose does) leaves the
# directory unused.
ENV MUSICSTREAM_HOST=0.0.0.0 \
    MUSICSTREAM_PORT=5000 \
    MUSICSTREAM_PUBLIC_DIR=/app/Public \
    MUSICSTREAM_DATA_DIR=/var/lib/musicstream

# Numeric, so orchestrators can verify runAsNonRoot.
USER 10001:10001
EXPOSE 5000

# Liveness only (the process serves HTTP); readiness, i.e. consuming from a reachable cluster, is
# /readyz, for load balancers and orchestrators.
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s --retries=3 \
  CMD curl -fsS -o /dev/null "http://127.0.0.1:${MUSICSTREAM_PORT:-5000}/healthz" || exit 1

ENTRYPOINT ["/app/musicstream"]
CMD ["serve", "--host", "0.0.0.0", "--public-dir", "/app/Public"]
