import Foundation
import HavenCore
import Postgres
import Sealing

/// Walks the chain from the first seal and names the first event that was changed, deleted,
/// inserted, duplicated or reordered, then compares the chain with every signed checkpoint it
/// was given: a trail shorter than one was cut or emptied, a link that differs from one was
/// rebuilt (S9).
public struct AuditVerifier: Sendable {
    let store: Store

    public init(store: Store) {
        self.store = store
    }

    /// `checkpoints` are checked with `publicKey`, or with the public key derived from the key
    /// file for the key each names. Read them before calling: the walk's snapshot must include
    /// everything they cover.
    public func verify(
        as context: AccessContext = .system, pageSize: Int = 20_000, checkpoints: [AuditCheckpoint] = [], publicKey: [UInt8]? = nil
    ) async throws -> AuditVerificationReport {
        let keys = store.keys
        if let forged = AuditVerifier.unsigned(checkpoints, keys: keys, publicKey: publicKey) {
            return AuditVerificationReport(checked: 0, pending: 0, problem: forged)
        }
        return try await store.transaction(context, isolation: .repeatableReadOnly) { transaction in
            var walk = AuditWalk(keys: keys, checkpoints: checkpoints)
            return try walk.run(transaction.connection, pageSize: pageSize)
        }
    }

    /// The first checkpoint whose signature does not hold.
    static func unsigned(_ checkpoints: [AuditCheckpoint], keys: KeyRing, publicKey: [UInt8]?) -> AuditProblem? {
        var derived: [String: [UInt8]] = [:]
        for checkpoint in checkpoints {
            let key: [UInt8]
            if let publicKey {
                key = publicKey
            } else if let known = derived[checkpoint.keyID] {
                key = known
            } else {
                guard let made = try? AuditCheckpoint.publicKey(keys, keyID: checkpoint.keyID).key else {
                    return AuditProblem(kind: .wrongKey, seq: checkpoint.length, eventID: nil,
                                        message: "\(checkpoint.label) names key \(checkpoint.keyID), which the key file lacks")
                }
                derived[checkpoint.keyID] = made
                key = made
            }
            if !checkpoint.isSigned(by: key) {
                return AuditProblem(kind: .forgedCheckpoint, seq: checkpoint.length, eventID: nil,
                                    message: "\(checkpoint.label) does not carry a valid signature of this deployment")
            }
        }
        return nil
    }

    static let eventColumns = """
        e.id, e.xid, e.recorded, e.action, e.subtype, e.outcome,
        e.actor_user, e.actor_org, e.actor_role, e.actor_ip, e.entity_kind, e.entity_id, e.case_id, e.subject_org,
        e.purpose, e.detail, e.request_id, e.mac_key, e.mac, e.type
        """

    static let chainPageSQL = "SELECT s.seq, s.event_id, s.event_xid, s.hash, e.id IS NOT NULL, " + eventColumns + """
        , s.segment, s.link_key
        FROM audit_seal s LEFT JOIN audit_event e ON e.id = s.event_id
        WHERE s.seq > $1 ORDER BY s.seq LIMIT $2
        """

    static let pendingPageSQL = "SELECT " + eventColumns + """

        FROM audit_event e
        WHERE (e.xid, e.id) > ($1::text::xid8, $2::bigint)
        ORDER BY e.xid, e.id LIMIT $3
        """
}
