import Foundation

/// What verification found wrong with the trail, and where.
public struct AuditProblem: Sendable, Equatable, Codable {
    public enum Kind: String, Sendable, Codable {
        /// An event's content no longer matches its MAC (edited, or written outside Haven).
        case changed
        /// The chain names an event that is gone, or a link is missing.
        case deleted
        /// An event sits in the sealed part of the trail but not in the chain, or carries the
        /// pre-upgrade MAC form after the keyed chain began.
        case inserted
        /// A copy of another event (same MAC) under a new id or at another place.
        case duplicated
        /// Chain links are out of order or do not follow from each other.
        case reordered
        /// The trail is shorter than a signed checkpoint says it was: its newest events were
        /// deleted, or all of them.
        case truncated
        /// The chain differs from a signed checkpoint at the checkpoint's length: rebuilt after a
        /// deletion or change.
        case rebuilt
        /// A checkpoint whose signature does not hold: not written by this deployment.
        case forgedCheckpoint = "forged-checkpoint"
        /// The key file does not hold the keys that signed the trail: nothing can be judged.
        case wrongKey = "wrong-key"
    }

    public var kind: Kind
    public var seq: Int64?
    public var eventID: Int64?
    public var message: String
}

public struct AuditVerificationReport: Sendable, Equatable {
    public var ok: Bool { problem == nil }
    /// Sealed events checked.
    public var checked: Int
    /// Events committed but not sealed yet (checked for their MAC only).
    public var pending: Int
    public var lastSealedSeq: Int64?
    public var lastSealedEventID: Int64?
    public var lastSealedRecorded: Date?
    /// The first link sealed with the chain key; links before it predate migration 0016 and
    /// are protected only by the checkpoints and the keyed links after them.
    public var keyedFromSeq: Int64?
    /// Signed checkpoints the trail was compared with, and the longest of them.
    public var checkpointsChecked: Int = 0
    public var longestCheckpoint: Int64?
    public var problem: AuditProblem?
}
