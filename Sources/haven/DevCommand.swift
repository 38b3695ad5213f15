import ArgumentParser
import Foundation
import HavenDev
import HavenStore
import Logging
import Postgres
import ServiceLifecycle
import UnixSignals

struct DevCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dev",
        abstract: "Developer tools.",
        subcommands: [DevDatabaseCommand.self, DevSeedCommand.self]
    )
}

struct DevDatabaseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "db",
        abstract: "Start the embedded PostgreSQL, migrate it, print its connection strings, run until Ctrl-C."
    )

    @OptionGroup var database: DatabaseOptions

    func run() async throws {
        let logger = Logs.bootstrap()
        let runtime = try DatabaseRuntime.start(database, logger: logger)
        _ = try runtime.migrate(database, logger: logger)
        var text = "application: \(runtime.appURL)\nowner:       \(runtime.ownerURL)\n"
        if let embedded = runtime.embedded { text += "superuser:   \(embedded.conninfo())\n" }
        Console.write(text)
        let group = ServiceGroup(configuration: .init(services: [WaitForShutdown()], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
        runtime.stop(logger: logger, force: true)
    }
}

struct WaitForShutdown: Service {
    func run() async throws {
        try? await gracefulShutdown()
    }
}

struct DevSeedCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "seed",
        abstract: "Fill the database with synthetic organisations, users and cases (consents, needs, services, referrals, audit events).",
        discussion: """
            Every person is invented. Users share the password printed at the end; logins are written to --logins as JSON.
            A database that already holds cases is refused, unless --add-to-earlier-seed and it was seeded before.
            """
    )

    @Option(help: "How many cases.") var cases: Int = 10_000
    @Option(help: "How many organisations.") var organisations: Int = 20
    @Option(help: "Write the seeded logins here as JSON.") var logins: String?
    @Flag(help: "Add to a database this command seeded before, even though it holds cases.") var addToEarlierSeed = false
    @OptionGroup var database: DatabaseOptions

    func run() async throws {
        guard cases >= 0, organisations >= 2 else { throw ValidationError("--cases must be ≥ 0 and --organisations ≥ 2") }
        let cases = self.cases, organisations = self.organisations, adding = addToEarlierSeed
        let started = ContinuousClock.now
        let summary: Seeder.Summary
        do {
            summary = try await OperatorSession.with(database) { session in
                let credentials = Credentials.fast()
                defer { Task { await credentials.shutdown() } }
                return try await Seeder(store: session.store, credentials: credentials, logger: session.logger)
                    .seed(cases: cases, organisations: organisations, addingToEarlierSeed: adding)
            }
        } catch let refusal as SeedRefusal {
            throw CLIError("refused: \(refusal); nothing was written")
        }
        if let logins {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            encoder.keyEncodingStrategy = .convertToSnakeCase
            try encoder.encode(summary).write(to: URL(fileURLWithPath: logins))
        }
        let elapsed = ContinuousClock.now - started
        Console.write("seeded \(summary.organisations) organisations and \(summary.cases) cases in \(elapsed.components.seconds) s; every seeded user's password is \(Seeder.password)")
    }
}
