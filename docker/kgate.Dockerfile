# kgate, the release gate, as an image for CI jobs and `helm test`:
#   docker run --rm --network host -v "$PWD:/work" -e BETTER_AUTH_SECRET \
#     kgate/kgate:0.1.0 run --config kgate.yaml --target http://127.0.0.1:7860
# Reports go to /work/kgate-report/ by default (mount /work to keep them).
# The reference todo-app is included too, for kgate's self-tests against it.
#
# Build from the repository root (the context must be the root):
#   docker build -f docker/kgate.Dockerfile -t kgate/kgate:0.1.0 .
ARG DEBIAN_RELEASE=12.11

# ---------------------------------------------------------------- builder
FROM debian:${DEBIAN_RELEASE} AS builder
ARG DEBIAN_FRONTEND=noninteractive
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      build-essential cmake ninja-build pkg-config \
      libboost1.81-dev libboost-system1.81-dev \
      libssl-dev libyaml-cpp-dev nlohmann-json3-dev libspdlog-dev libfmt-dev \
      libgtest-dev libgmock-dev libcli11-dev \
      libsqlite3-dev libpq-dev \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /src
COPY . .
ARG BUILD_JOBS=2
RUN cmake -S . -B /build -G Ninja \
      -DCMAKE_BUILD_TYPE=Release \
      -DKGATE_TESTS=OFF \
      -DKGATE_WERROR=OFF \
      -DCMAKE_RUNTIME_OUTPUT_DIRECTORY=/out \
 && cmake --build /build --target kgate todo-app --parallel "${BUILD_JOBS}" \
 && strip /out/kgate /out/todo-app \
 && /out/kgate --help >/dev/null

# ---------------------------------------------------------------- runtime
FROM debian:${DEBIAN_RELEASE}-slim AS runtime
ARG DEBIAN_FRONTEND=noninteractive
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      ca-certificates \
      libssl3 libyaml-cpp0.7 libspdlog1.10 libfmt9 \
      libsqlite3-0 libpq5 \
 && rm -rf /var/lib/apt/lists/*
RUN groupadd --gid 1000 kgate \
 && useradd --uid 1000 --gid 1000 --no-create-home --home-dir /work --shell /usr/sbin/nologin kgate \
 && mkdir -p /work \
 && chown 1000:1000 /work

COPY --from=builder /out/kgate /usr/local/bin/kgate
COPY --from=builder /out/todo-app /usr/local/bin/todo-app
RUN for bin in /usr/local/bin/kgate /usr/local/bin/todo-app; do \
      if ldd "$bin" | grep 'not found'; then exit 1; fi; \
    done \
 && /usr/local/bin/kgate --help >/dev/null

LABEL org.opencontainers.image.title="kgate" \
      org.opencontainers.image.description="Release gate for a todo app on Kubernetes"

USER 1000:1000
WORKDIR /work
# kgate is a one-shot CLI; the check only proves the binary and its libraries load.
HEALTHCHECK --interval=5m --timeout=10s --retries=1 \
  CMD ["/usr/local/bin/kgate", "--help"]
ENTRYPOINT ["/usr/local/bin/kgate"]
CMD ["run", "--config", "kgate.yaml"]
