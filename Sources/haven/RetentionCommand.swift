import ArgumentParser
import Foundation
import HavenCore
import HavenStore

struct RetentionCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "retention", abstract: "Anonymise closed cases past their retention date.", subcommands: [RetentionRunCommand.self])
}

struct RetentionRunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Erase identifying fields and notes of every closed case whose retention date has passed; statistics stay.",
        discussion: "`haven serve` runs the same every hour. Each anonymised case gets an audit event.")

    @OptionGroup var database: DatabaseOptions

    func run() async throws {
        let count = try await OperatorSession.with(database) { session in
            try await Retention.runDue(store: session.store, today: CalendarDate.of(Date()))
        }
        print("anonymised \(count) cases")
    }
}
