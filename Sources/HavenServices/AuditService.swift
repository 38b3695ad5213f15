import Foundation
import HavenCore
import HavenStore

/// The audit trail as its readers see it: supervisors their organisation's events, auditors
/// everyone's; verification of the chain for auditors. Reading the trail is on the trail too.
public struct AuditService: Sendable {
    let store: Store

    public init(store: Store) {
        self.store = store
    }

    public func events(_ filter: AuditFilter, page: PageRequest, context: AccessContext) async throws -> Page<AuditRecord> {
        guard let actor = context.actor else { throw StoreError.forbidden("log in first") }
        return try await store.transaction(context) { transaction in
            try transaction.authorize(.readAuditTrail, .collection, entityKind: "audit-event")
            let scope = try AccessScope.nationalOrOrganisation(AccessPolicy.scope(actor, .readAuditTrail))
            let found = try AuditQuery.list(filter, scopeOrganisation: scope, after: page.cursor, limit: page.limit, on: transaction.connection)
            // After the query, so a page never shows its own read. The filters by name only: an id
            // asked for may be another organisation's.
            try transaction.audit(.read, "audit.read", entityKind: "audit-event", subjectOrganisation: scope,
                                  purpose: .audit, detail: ["filters": .strings(filter.usedFields), "count": .int(found.items.count)])
            return found
        }
    }

    /// Seals what is pending, then walks the whole chain; the check is an event of its own.
    public func verify(context: AccessContext) async throws -> AuditVerificationReport {
        try await store.transaction(context) { try $0.authorize(.verifyAuditTrail, .collection, entityKind: "audit-trail") }
        _ = try await AuditSealer(store: store).sealAll()
        let report = try await AuditVerifier(store: store).verify(as: context)
        try await store.transaction(context) { transaction in
            try transaction.audit(.execute, "audit.verify", outcome: report.ok ? .success : .error, entityKind: "audit-trail", purpose: .audit,
                                  detail: ["checked": .int(report.checked), "ok": .bool(report.ok)])
        }
        return report
    }
}
