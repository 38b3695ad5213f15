import ArgumentParser
import Foundation
import HavenStore

struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit", abstract: "The tamper-evident audit trail.", subcommands: [AuditVerifyCommand.self])
}

struct AuditVerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Seal what is pending, then walk the hash chain and check every event's MAC.",
        discussion: "Exits 0 when the trail is intact; 1 naming the first event changed, deleted, inserted or reordered."
    )

    @OptionGroup var database: DatabaseOptions

    func run() async throws {
        let started = ContinuousClock.now
        let report = try await OperatorSession.with(database) { session in
            _ = try await AuditSealer(store: session.store).sealAll()
            return try await AuditVerifier(store: session.store).verify()
        }
        let elapsed = ContinuousClock.now - started
        if let problem = report.problem {
            print("TAMPERED: \(problem.message) [\(problem.kind.rawValue)]")
            throw ExitCode(1)
        }
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        print("OK: \(report.checked) sealed events verified, \(report.pending) pending; last sealed link \(report.lastSealedSeq.map(String.init) ?? "-") (event \(report.lastSealedEventID.map(String.init) ?? "-")); \(Int(Double(report.checked) / max(seconds, 0.001))) events/s")
    }
}
