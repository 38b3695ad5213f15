import ArgumentParser
import Foundation
import HavenAPI
import Logging

@main
struct Haven: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "haven",
        abstract: "Case management for protection programmes: referrals between organisations, consent, audit.",
        discussion: """
            Without DATABASE_URL, Haven runs its own PostgreSQL in the data folder (.haven/pg by default).
            Every option has an environment fallback, shown in its help (HAVEN_*).
            """,
        subcommands: [
            ServeCommand.self, MigrateCommand.self, OrgCommand.self, UserCommand.self, AuditCommand.self, KeysCommand.self,
            RetentionCommand.self, HealthcheckCommand.self, DevCommand.self,
        ]
    )
}

enum Environment {
    static func value(_ name: String) -> String? {
        guard let value = ProcessInfo.processInfo.environment[name], !value.isEmpty else { return nil }
        return value
    }
}

enum Logs {
    /// One logging setup per process: standard error, level from HAVEN_LOG_LEVEL (default info).
    static func bootstrap() -> Logger {
        let level = Environment.value("HAVEN_LOG_LEVEL").flatMap(Logger.Level.init(rawValue:)) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = LazyMetadataLogHandler(label: label)
            handler.logLevel = level
            return handler
        }
        var logger = Logger(label: "haven")
        logger.logLevel = level
        return logger
    }
}

struct CLIError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

enum Console {
    /// Unbuffered standard output, so a message reaches a pipe before anything else happens.
    static func write(_ text: String) {
        FileHandle.standardOutput.write(Data((text.hasSuffix("\n") ? text : text + "\n").utf8))
    }
}
