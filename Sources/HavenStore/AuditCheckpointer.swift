import Foundation
import Logging
import Postgres
import Sealing

/// Signs the chain's length and head while events arrive (a background task of `haven serve`)
/// and on an auditor's request. It signs only a chain that extends the last checkpoint it
/// wrote: a head that went back or a link that changed under a checkpoint is refused and logged,
/// so Haven never vouches for a trail cut or rebuilt behind its back (S9).
public struct AuditCheckpointer: Sendable {
    public struct Refused: Error, CustomStringConvertible {
        public var description: String
    }

    let store: Store
    /// Nil: checkpoints are signed for the asker only, and kept nowhere (tests, tools).
    let folder: AuditCheckpointFolder?
    static let historySpacing: TimeInterval = 60

    public init(store: Store, folder: AuditCheckpointFolder?) {
        self.store = store
        self.folder = folder
    }

    /// The checkpoint of the current head: the latest one when the head has not moved, else a
    /// new one, written to the folder. Nil while nothing is sealed.
    public func checkpoint(now: Date = Date(), history: Bool = true) async throws -> AuditCheckpoint? {
        let last = try folder?.latest()
        let keys = store.keys
        let head = try await store.transaction(.system, isolation: .repeatableRead) { transaction -> (length: Int64, eventID: Int64, hash: [UInt8], atLast: [UInt8]?)? in
            let connection = transaction.connection
            guard let row = try connection.query("SELECT seq, hash, event_id FROM audit_seal ORDER BY seq DESC LIMIT 1").first else { return nil }
            let length: Int64 = try row.decode(at: 0)
            var atLast: [UInt8]?
            if let last, last.length > 0 {
                atLast = try connection.query("SELECT hash FROM audit_seal WHERE seq = $1", [last.length]).first?.decode(at: 0)
            }
            return (length, try row.decode(at: 2), try row.decode(at: 1), atLast)
        }
        if let last, last.length > 0 {
            guard let head, head.length >= last.length, let atLast = head.atLast, atLast == last.headBytes else {
                throw Refused(description: "the audit chain no longer extends \(last.label): refusing to sign; run `haven audit verify`")
            }
            if head.length == last.length { return last }
        }
        guard let head else { return last }
        let checkpoint = try AuditCheckpoint.sign(length: head.length, eventID: head.eventID, head: head.hash, at: now, keys: keys)
        if let folder {
            let recent = last.flatMap { ISO8601DateFormatter().date(from: $0.signedAt) }.map { now.timeIntervalSince($0) < AuditCheckpointer.historySpacing } ?? false
            try folder.write(checkpoint, history: history || !recent, day: now)
        }
        return checkpoint
    }

    /// Signs every `interval` while the head moves, until cancelled. The history keeps a line at
    /// most a minute apart; `latest.json` follows every checkpoint.
    public func run(every interval: Duration, logger: Logger) async {
        var lastHistory = Date.distantPast
        while !Task.isCancelled {
            do {
                let now = Date()
                let keep = now.timeIntervalSince(lastHistory) >= AuditCheckpointer.historySpacing
                if let signed = try await checkpoint(now: now, history: keep), signed.signedAt == ISO8601DateFormatter().string(from: now), keep {
                    lastHistory = now
                }
            } catch is CancellationError {
                return
            } catch let refused as Refused {
                logger.critical("audit checkpoint refused", metadata: ["reason": "\(refused.description)"])
            } catch {
                logger.warning("audit checkpoint failed; will retry", metadata: ["error": "\(PGError.loggable(error))"])
            }
            try? await Task.sleep(for: interval)
        }
    }
}
