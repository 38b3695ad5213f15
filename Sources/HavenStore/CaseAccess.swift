import Foundation
import HavenCore
import Postgres

extension StoreTransaction {
    /// Finds a case's facts and asks the policy; a case that does not exist and one outside the
    /// actor's scope both answer 404 (the second is audited as a denial).
    public func authorizeCase(_ id: UUID, _ operation: AccessOperation) throws -> (facts: CaseFacts, status: CaseStatus, purpose: Purpose) {
        guard let actor else { throw StoreError.notFound("no such case") }
        guard let found = try CaseStore.facts(id, actor: actor, on: connection) else { throw missing(.caseFile, id, operation) }
        let purpose = try authorize(operation, .caseRecord(found.facts), entityKind: .caseFile, entityID: id.lowercasedString,
                                    caseID: id, subjectOrganisation: found.facts.owningOrganisation)
        return (found.facts, found.status, purpose)
    }

    /// `authorizeCase` and the case itself, fetched in the same round trip. The row comes
    /// through row-level security, and is decoded (and its identity opened) only once the
    /// policy has allowed the operation.
    public func authorizeAndLoadCase(_ id: UUID, _ operation: AccessOperation, open: Bool) throws
        -> (file: CaseFile, facts: CaseFacts, purpose: Purpose) {
        guard let actor else { throw StoreError.notFound("no such case") }
        let fetched = try CaseStore.factsAndFile(id, actor: actor, keys: keys, open: open, on: connection)
        guard let found = fetched.found else { throw missing(.caseFile, id, operation) }
        let purpose = try authorize(operation, .caseRecord(found.facts), entityKind: .caseFile, entityID: id.lowercasedString,
                                    caseID: id, subjectOrganisation: found.facts.owningOrganisation)
        guard let file = try fetched.file() else { throw StoreError.notFound("no such case") }
        return (file, found.facts, purpose)
    }

    /// The same for a break-glass grant, then the grant itself (through row-level security). A
    /// missing grant answers in the denial's words, so the two cannot be told apart.
    public func authorizeAndLoadGrant(_ id: UUID, _ operation: AccessOperation) throws -> (grant: BreakGlassGrant, purpose: Purpose) {
        guard let found = try BreakGlassStore.facts(id, on: connection) else { throw missing(.breakGlassGrant, id, operation) }
        let purpose = try authorize(operation, .grant(found.facts), entityKind: .breakGlassGrant, entityID: id.lowercasedString,
                                    caseID: found.caseID, subjectOrganisation: found.facts.caseOrganisation)
        guard let grant = try BreakGlassStore.find(id, keys: keys, on: connection) else { throw StoreError.notFound("no such break-glass-grant") }
        return (grant, purpose)
    }

    /// The same for a referral. A referral whose consent has lapsed is ended first (S16), so
    /// the answer already reflects it.
    public func authorizeReferral(_ id: UUID, _ operation: AccessOperation) throws -> (facts: ReferralStore.Facts, purpose: Purpose) {
        guard let actor else { throw StoreError.notFound("no such referral") }
        guard var found = try ReferralStore.facts(id, actor: actor, on: connection) else { throw missing(.referral, id, operation) }
        let purpose = try authorize(operation, .referral(found.facts), entityKind: .referral, entityID: id.lowercasedString,
                                    caseID: found.caseID, subjectOrganisation: found.facts.caseFacts.owningOrganisation)
        if found.status.isOpen && found.consent != .active, let reason = try ReferralStore.endIfConsentLapsed(id, on: connection) {
            try auditLapsedEnds([ReferralStore.LapsedEnd(id: id, caseID: found.caseID, caseOrganisation: found.facts.caseFacts.owningOrganisation,
                                                         from: found.status.rawValue, reason: reason.rawValue)])
            found.status = .cancelled
        }
        return (found, purpose)
    }

    /// 409 unless the case is open: a closed case takes no new work until it is reopened.
    public func requireOpen(_ status: CaseStatus) throws {
        if status != .open { throw StoreError.conflict("the case is closed; reopen it first", field: nil) }
    }

    /// Ends the organisation's referrals whose consent lapsed, each with its audit event, so a
    /// list never shows one as open (S16).
    public func endLapsedReferrals() throws {
        guard let actor else { return }
        let ended = try connection.query("SELECT id FROM haven_end_lapsed_referrals_of($1, NULL) AS id", [actor.organisationID])
            .rows.map { try $0.decode(UUID.self, at: 0) }
        try auditLapsedEnds(try ReferralStore.lapsedEnds(ended, on: connection))
    }

    /// The events of referrals Haven ended because their consent lapsed: Haven is the actor,
    /// and each names its case and the case's organisation, so the case's trail and its
    /// supervisor see it.
    public func auditLapsedEnds(_ ended: [ReferralStore.LapsedEnd]) throws {
        NotificationOutbox.enqueueCancellations(of: ended.map(\.id), on: connection)
        for end in ended {
            var detail: [String: AuditDetail] = ["to": "cancelled", "reason": .string(end.reason ?? "consent-lapsed")]
            if let from = end.from { detail["from"] = .string(from) }
            try auditAsHaven(AuditEvent(
                recorded: Date(), action: .update, subtype: .referralTransition, entityKind: .referral, entityID: end.id.lowercasedString,
                caseID: end.caseID, subjectOrganisation: end.caseOrganisation, purpose: .referral, detail: detail))
        }
    }
}

extension StoreTransaction {
    /// A record that does not exist is refused like one out of reach (S2, S8): the same 404 and
    /// the same `access.denied` event in the caller's trail, naming no case and no owner, so
    /// neither the answer nor the caller's supervisor can tell an unknown id from another
    /// organisation's record.
    func missing(_ kind: EntityKind, _ id: UUID, _ operation: AccessOperation) -> AccessDenied {
        AccessDenied(decision: .notFound, operation: operation, entityKind: kind, entityID: id.lowercasedString, caseID: nil, subjectOrganisation: nil)
    }
}
