import Foundation
import HavenCore
import HavenStore

/// The audit trail as its readers see it: supervisors their organisation's events, auditors
/// everyone's; verification of the chain for auditors. Reading the trail is on the trail too.
public struct AuditService: Sendable {
    let store: Store
    /// Where this deployment keeps its signed checkpoints; nil keeps none.
    let checkpoints: AuditCheckpointFolder?

    public init(store: Store, checkpoints: AuditCheckpointFolder? = nil) {
        self.store = store
        self.checkpoints = checkpoints
    }

    public func events(_ filter: AuditFilter, page: PageRequest, context: AccessContext) async throws -> Page<AuditRecord> {
        guard let actor = context.actor else { throw StoreError.forbidden("log in first") }
        return try await store.transaction(context) { transaction in
            try transaction.authorize(.readAuditTrail, .collection, entityKind: .auditEvent)
            let scope = try AccessScope.nationalOrOrganisation(AccessPolicy.scope(actor, .readAuditTrail))
            let found = try AuditQuery.list(filter, scopeOrganisation: scope, after: page.cursor, limit: page.limit, on: transaction.connection)
            // After the query, so a page never shows its own read. The filters by name only: an id
            // asked for may be another organisation's.
            try transaction.audit(.read, .auditRead, entityKind: .auditEvent, subjectOrganisation: scope,
                                  purpose: .audit, detail: ["filters": .strings(filter.usedFields), "count": .int(found.items.count)])
            return found
        }
    }

    /// Seals what is pending, then walks the whole chain and compares it with every checkpoint
    /// kept; the check is an event of its own.
    public func verify(context: AccessContext) async throws -> AuditVerificationReport {
        try await store.transaction(context) { try $0.authorize(.verifyAuditTrail, .collection, entityKind: .auditTrail) }
        _ = try await AuditSealer(store: store).sealAll()
        // Read before the walk's snapshot, which then holds everything they cover.
        let kept = try checkpoints?.all() ?? []
        let report = try await AuditVerifier(store: store).verify(as: context, checkpoints: kept)
        try await store.transaction(context) { transaction in
            try transaction.audit(.execute, .auditVerify, outcome: report.ok ? .success : .error, entityKind: .auditTrail, purpose: .audit,
                                  detail: ["checked": .int(report.checked), "ok": .bool(report.ok)])
        }
        return report
    }

    /// The latest signed checkpoint of the chain (sealing what is pending first), for a second
    /// party to keep (S9). Nil while nothing is sealed.
    public func checkpoint(context: AccessContext) async throws -> AuditCheckpoint? {
        try await store.transaction(context) { try $0.authorize(.verifyAuditTrail, .collection, entityKind: .auditCheckpoint) }
        _ = try await AuditSealer(store: store).sealAll()
        let checkpoint: AuditCheckpoint?
        do {
            checkpoint = try await AuditCheckpointer(store: store, folder: checkpoints).checkpoint()
        } catch let refused as AuditCheckpointer.Refused {
            throw StoreError.conflict(refused.description, field: nil)
        }
        try await store.transaction(context) { transaction in
            try transaction.audit(.read, .auditCheckpoint, entityKind: .auditCheckpoint, purpose: .audit,
                                  detail: ["length": .int(Int(checkpoint?.length ?? 0))])
        }
        return checkpoint
    }
}
