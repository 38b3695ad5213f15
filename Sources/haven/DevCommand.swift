import ArgumentParser
import Foundation
import Logging
import Postgres
import ServiceLifecycle
import UnixSignals

struct DevCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dev",
        abstract: "Developer tools.",
        subcommands: [DevDatabaseCommand.self]
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
