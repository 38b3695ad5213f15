# PgBouncer for deploy/compose.yaml: Debian's package, as in deploy/pgbouncer/, run unprivileged.
FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends pgbouncer postgresql-client ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10002 pgbouncer \
 && useradd --system --uid 10002 --gid pgbouncer --home-dir /nonexistent --no-create-home --shell /usr/sbin/nologin pgbouncer
USER 10002:10002
EXPOSE 6432
HEALTHCHECK --interval=10s --timeout=3s --retries=3 CMD ["pg_isready", "-h", "127.0.0.1", "-p", "6432", "-U", "haven_api", "-d", "haven"]
ENTRYPOINT ["/usr/sbin/pgbouncer"]
CMD ["/etc/pgbouncer/pgbouncer.ini"]
