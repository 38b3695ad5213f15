import ArgumentParser
import Delivery
import Foundation
import HavenAPI
import HavenServices
import HavenStore
import Logging
import Postgres
import Sealing

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the HTTP API (starting an embedded PostgreSQL when DATABASE_URL is unset).",
        discussion: """
            Applies pending migrations first unless --no-migrate. On an empty database, creates the
            bootstrap admin and prints its one-time password once. Stops cleanly on SIGINT/SIGTERM.
            """
    )

    @Option(name: .long, help: "Address to listen on. (env HAVEN_HOST, default 127.0.0.1)")
    var host: String?

    @Option(name: .long, help: "Port to listen on. (env HAVEN_PORT, default 8080)")
    var port: Int?

    @Flag(name: .long, help: "Do not apply migrations at start. (env HAVEN_NO_MIGRATE=1)")
    var noMigrate = false

    @Flag(name: .long, help: "Deliver no notifications from this instance: the outbox is shared, so another instance on the same database sends them (for instances that only answer requests). (env HAVEN_NO_DELIVERY=1)")
    var noDelivery = false

    @Option(name: .long, help: "Largest request body in bytes. (env HAVEN_BODY_LIMIT, default 1048576)")
    var bodyLimit: Int?

    @Option(name: .long, help: "Comma-separated addresses or CIDR ranges of trusted reverse proxies. (env HAVEN_TRUSTED_PROXIES)")
    var trustedProxies: String?

    @Option(name: .long, help: "Login attempts per client address per minute. (env HAVEN_LOGIN_RATE, default 30)")
    var loginRate: Int?

    @Option(name: .long, help: "Milliseconds a checked bearer token is trusted before the database is asked again; a logout elsewhere takes this long to reach this instance. (env HAVEN_SESSION_CACHE_MS, default 1000)")
    var sessionCacheMs: Int?

    @Option(name: .long, help: "Threads for HTTP's event loops. Haven's own work runs beside them on the Swift pool and the database pool's threads, and PostgreSQL usually on the same cores: on 2 cores, one event loop answered an audited read with 3–7% less CPU than two. (env HAVEN_EVENT_LOOP_THREADS, default half the cores, at least 1)")
    var eventLoopThreads: Int?

    @Option(name: .long, help: "PostgreSQL URL of a streaming replica for reports; the primary answers while it is down. (env HAVEN_REPLICA_URL)")
    var replicaURL: String?

    @Flag(name: .long, help: "Let webhooks use http:// and loopback, private or link-local addresses: for tests and development only, never where the deployment's own network must stay out of reach. (env HAVEN_WEBHOOK_ALLOW_PRIVATE=1)")
    var webhookAllowPrivate = false

    @Option(name: .long, help: "The console's address as its users reach it (e.g. https://haven.example.org), for the links webhooks carry; unset, they carry the path only. (env HAVEN_PUBLIC_URL)")
    var publicURL: String?

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var pool: PoolOptions
    @OptionGroup var sessions: SessionOptions
    @OptionGroup var mail: MailOptions

    func run() async throws {
        let logger = Logs.bootstrap()
        var configuration = AppConfiguration()
        try sessions.apply(to: &configuration)
        configuration.host = host ?? Environment.value("HAVEN_HOST") ?? "127.0.0.1"
        configuration.port = port ?? Environment.value("HAVEN_PORT").flatMap(Int.init) ?? 8080
        configuration.bodyLimit = bodyLimit ?? Environment.value("HAVEN_BODY_LIMIT").flatMap(Int.init) ?? 1 << 20
        configuration.loginRatePerMinute = loginRate ?? Environment.value("HAVEN_LOGIN_RATE").flatMap(Int.init) ?? 30
        configuration.sessionCacheLifetime = .milliseconds(max(0, sessionCacheMs ?? Environment.value("HAVEN_SESSION_CACHE_MS").flatMap(Int.init) ?? 1000))
        let loops = eventLoopThreads ?? Environment.value("HAVEN_EVENT_LOOP_THREADS").flatMap(Int.init) ?? max(1, ProcessInfo.processInfo.activeProcessorCount / 2)
        guard (1...256).contains(loops) else { throw ValidationError("--event-loop-threads must be between 1 and 256") }
        configuration.eventLoopThreads = loops
        let proxies = trustedProxies ?? Environment.value("HAVEN_TRUSTED_PROXIES") ?? ""
        configuration.trustedProxies = try TrustedProxies(parsing: proxies)
        let schema = try DatabaseSetup.schemaDirectory(database.resolvedSchemaDir)
        configuration.openAPIPath = schema.appendingPathComponent("openapi.yaml").path
        let migrate = !(noMigrate || Environment.value("HAVEN_NO_MIGRATE") == "1")
        configuration.auditCheckpointDirectory = database.resolvedCheckpointFolder.path
        configuration.webhooks.allowPrivate = webhookAllowPrivate || Environment.value("HAVEN_WEBHOOK_ALLOW_PRIVATE") == "1"
        let publicURL = self.publicURL ?? Environment.value("HAVEN_PUBLIC_URL")
        if let publicURL, !(publicURL.hasPrefix("https://") || publicURL.hasPrefix("http://")) {
            throw ValidationError("--public-url must start with https:// or http://")
        }

        let mailRelay = try mail.relay(consoleBase: publicURL)
        let runtime = try DatabaseRuntime.start(database, logger: logger)
        let keys: KeyRing
        do {
            keys = try KeyFile.load(database, logger: logger)
        } catch {
            runtime.stop(logger: logger, force: true)
            throw error
        }
        let pgPool = PGPool(
            configuration: .init(
                conninfo: runtime.appURL, size: pool.resolvedSize, acquireTimeout: .milliseconds(Int(pool.resolvedTimeout * 1000)),
                connection: .init(namedStatements: !pool.resolvedPgBouncer, statementTimeoutMilliseconds: pool.resolvedStatementTimeout)),
            logger: logger)
        let hasher = Credentials()
        // Webhook and mail calls run on the courier's own threads, never the event loops or the database pool's.
        let courier = Courier(threads: 4)
        do {
            let store = try Store(pool: pgPool, keys: keys, logger: logger)
            let migrator = try DatabaseSetup.migrator(schemaDirectory: schema)
            let webhooks = WebhookChannel(store: store, courier: courier, settings: .init(
                allowPrivate: configuration.webhooks.allowPrivate, consoleBase: publicURL))
            var channels: [any NotificationChannel] = [InAppChannel(), webhooks]
            if noDelivery || Environment.value("HAVEN_NO_DELIVERY") == "1" {
                channels = []
            } else if let relay = mailRelay {
                let words = try NotificationEmailWords.load()
                channels.append(EmailChannel(store: store, courier: courier, relay: relay, text: { words.text($0, $1) }))
            }
            let worker = DatabaseWorker(ownerURL: runtime.ownerURL, migrator: migrate ? migrator : nil, store: store, hasher: hasher,
                                        checkpoints: database.resolvedCheckpointFolder, channels: channels,
                                        logger: logger)
            var replica: Store?
            if let url = replicaURL ?? Environment.value("HAVEN_REPLICA_URL") {
                let replicaPool = PGPool(
                    configuration: .init(conninfo: url, size: max(2, pool.resolvedSize / 4), acquireTimeout: .seconds(2),
                                         connection: .init(namedStatements: !pool.resolvedPgBouncer, statementTimeoutMilliseconds: pool.resolvedStatementTimeout,
                                                           connectTimeoutSeconds: 2)),
                    logger: logger)
                replica = try Store(pool: replicaPool, keys: keys, logger: logger)
                logger.info("reports read from the replica")
            }
            try await serve(
                configuration: configuration,
                dependencies: HavenDependencies(store: store, schema: DatabaseSchema(migrator), hasher: hasher, replica: replica),
                services: [worker], logger: logger)
            await replica?.pool.close()
        } catch {
            await shutdown(pgPool, hasher, courier, runtime, logger)
            throw error
        }
        await shutdown(pgPool, hasher, courier, runtime, logger)
    }

    private func shutdown(_ pool: PGPool, _ hasher: Credentials, _ courier: Courier, _ runtime: DatabaseRuntime, _ logger: Logger) async {
        await courier.shutdown()
        await pool.close()
        await hasher.shutdown()
        runtime.stop(logger: logger, force: true)
        logger.info("haven stopped")
    }
}

struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Apply pending migrations from Schema/ and exit.",
        discussion: "Each file runs in its own transaction; an edited, already-applied file is refused by name."
    )

    @OptionGroup var database: DatabaseOptions

    func run() async throws {
        let logger = Logs.bootstrap()
        let runtime = try DatabaseRuntime.start(database, logger: logger)
        defer { runtime.stop(logger: logger) }
        let applied = try runtime.migrate(database, logger: logger)
        print(applied.isEmpty ? "schema is current" : "applied migrations: \(applied.map(String.init).joined(separator: ", "))")
    }
}
