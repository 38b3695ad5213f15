import ArgumentParser
import Foundation
import HavenStore
import Sealing

struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit", abstract: "The tamper-evident audit trail.", subcommands: [AuditVerifyCommand.self, AuditPublicKeyCommand.self])
}

struct AuditVerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Seal what is pending, then walk the keyed chain, check every event's MAC, and compare the chain with signed checkpoints.",
        discussion: """
            Checks against every checkpoint in the checkpoint folder, or only those in the files given with
            --checkpoint (a second party's copies, one JSON checkpoint per line). Exits 0 when the trail is intact
            and extends every checkpoint; 1 naming what happened (changed, deleted, inserted, duplicated,
            reordered, truncated, rebuilt, forged-checkpoint) and where.
            """
    )

    @OptionGroup var database: DatabaseOptions

    @Option(name: .long, help: "A checkpoint file to check against instead of the folder; repeatable.")
    var checkpoint: [String] = []

    @Option(name: .long, help: "Check the checkpoints' signatures with this Ed25519 public key (64 hex digits, as `haven audit public-key` prints) instead of the key file's.")
    var publicKey: String?

    func run() async throws {
        var trusted: [UInt8]?
        if let publicKey {
            guard let key = Hex.decode(publicKey), key.count == Ed25519.publicKeyLength else {
                throw ValidationError("--public-key must be 64 hex digits")
            }
            trusted = key
        }
        let started = ContinuousClock.now
        let (report, seen) = try await OperatorSession.with(database) { session in
            _ = try await AuditSealer(store: session.store).sealAll()
            // Read before the walk's snapshot, which then holds everything they cover.
            let checkpoints = try loadCheckpoints()
            return (try await AuditVerifier(store: session.store).verify(checkpoints: checkpoints, publicKey: trusted), checkpoints.count)
        }
        let elapsed = ContinuousClock.now - started
        if let problem = report.problem {
            print("TAMPERED: \(problem.message) [\(problem.kind.rawValue)]")
            throw ExitCode(1)
        }
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let keyed = report.keyedFromSeq.map { $0 == 1 ? "keyed from the first link" : "keyed from link \($0), earlier links predate the keyed chain" } ?? "no keyed link yet"
        print("OK: \(seen) checkpoints (longest \(report.longestCheckpoint.map(String.init) ?? "-")) extended; \(keyed)")
        print("OK: \(report.checked) sealed events verified, \(report.pending) pending; last sealed link \(report.lastSealedSeq.map(String.init) ?? "-") (event \(report.lastSealedEventID.map(String.init) ?? "-")); \(Int(Double(report.checked) / max(seconds, 0.001))) events/s")
    }

    private func loadCheckpoints() throws -> [AuditCheckpoint] {
        guard !checkpoint.isEmpty else { return try database.resolvedCheckpointFolder.all() }
        return try checkpoint.flatMap { path in
            do {
                return try AuditCheckpoint.parse(String(contentsOfFile: path, encoding: .utf8))
            } catch {
                throw CLIError("checkpoint file \(path) is not one JSON checkpoint per line")
            }
        }
    }
}

struct AuditPublicKeyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "public-key",
        abstract: "Print the Ed25519 public key that checks this deployment's audit checkpoints.",
        discussion: "Derived from the key file's newest key (or --key-id); give it to whoever keeps checkpoints (the national coordinator, an oversight body)."
    )

    @OptionGroup var database: DatabaseOptions

    @Option(name: .long, help: "The ring key whose checkpoint key to print (default: the newest).")
    var keyId: String?

    func run() async throws {
        let keys = try KeyFile.load(database, logger: Logs.bootstrap())
        let publicKey = try AuditCheckpoint.publicKey(keys, keyID: keyId)
        print("\(publicKey.id) \(Hex.encode(publicKey.key))")
    }
}
