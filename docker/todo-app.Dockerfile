# The reference todo app (`todo-app`), one image for both roles:
#   api (default): todo-app --role api --bind 0.0.0.0 --port 7860
#   web:           docker run ... kgate/todo-app:0.1.0 --role web --port 3000 --backend-url http://backend:7860
#                  (and -e TODO_HEALTH_PORT=3000 -e TODO_HEALTH_PATH=/api/health for the HEALTHCHECK)
#
# Build from the repository root (the context must be the root):
#   docker build -f docker/todo-app.Dockerfile -t kgate/todo-app:0.1.0 .
#
# Base images are pinned to a Debian 12 (bookworm) point release; pin a digest
# (debian:12.11@sha256:...) for byte-for-byte reproducible builds.
ARG DEBIAN_RELEASE=12.11

# ---------------------------------------------------------------- builder
FROM debian:${DEBIAN_RELEASE} AS builder
ARG DEBIAN_FRONTEND=noninteractive
# The same build dependencies as scripts/setup.sh, from Debian's packages.
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      build-essential cmake ninja-build pkg-config \
      libboost1.81-dev libboost-system1.81-dev \
      libssl-dev libyaml-cpp-dev nlohmann-json3-dev libspdlog-dev libfmt-dev \
      libgtest-dev libgmock-dev libcli11-dev \
      libsqlite3-dev libpq-dev \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /src
# .dockerignore (repository root) keeps build trees, reports and .git out.
COPY . .
ARG BUILD_JOBS=2
RUN cmake -S . -B /build -G Ninja \
      -DCMAKE_BUILD_TYPE=Release \
      -DKGATE_TESTS=OFF \
      -DKGATE_WERROR=OFF \
      -DCMAKE_RUNTIME_OUTPUT_DIRECTORY=/out \
 && cmake --build /build --target todo-app --parallel "${BUILD_JOBS}" \
 && strip /out/todo-app \
 && /out/todo-app --version

# ---------------------------------------------------------------- runtime
FROM debian:${DEBIAN_RELEASE}-slim AS runtime
ARG DEBIAN_FRONTEND=noninteractive
# Only the shared libraries the binary links (the -dev packages' runtime halves).
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      ca-certificates \
      libssl3 libspdlog1.10 libfmt9 \
      libsqlite3-0 libpq5 \
 && rm -rf /var/lib/apt/lists/*
RUN groupadd --gid 1000 app \
 && useradd --uid 1000 --gid 1000 --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin app

COPY --from=builder /out/todo-app /usr/local/bin/todo-app
COPY docker/healthcheck.sh /usr/local/bin/todo-healthcheck
# Fails the build if a shared library is missing from the list above.
RUN if ldd /usr/local/bin/todo-app | grep 'not found'; then exit 1; fi \
 && /usr/local/bin/todo-app --version

LABEL org.opencontainers.image.title="todo-app" \
      org.opencontainers.image.description="kgate reference todo app (api and web roles)"

USER 1000:1000
WORKDIR /tmp
EXPOSE 7860 3000
ENV TODO_HEALTH_PORT=7860 \
    TODO_HEALTH_PATH=/health
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
  CMD ["/usr/local/bin/todo-healthcheck"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/todo-app"]
CMD ["--role", "api", "--bind", "0.0.0.0", "--port", "7860"]
