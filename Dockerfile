# chartd: build with the Rust toolchain, run on a slim Debian. SQLite and libpq are built
# into the binary (bundled), so the runtime image needs nothing else.
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked && strip target/release/chartd

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* && useradd --system --home /var/lib/chartd chartd \
    && mkdir -p /var/lib/chartd && chown chartd /var/lib/chartd
COPY --from=build /src/target/release/chartd /usr/local/bin/chartd
USER chartd
WORKDIR /var/lib/chartd
ENV CHARTD_BIND=0.0.0.0:8000
EXPOSE 8000
ENTRYPOINT ["chartd"]
CMD ["serve"]
