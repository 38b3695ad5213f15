import Foundation
import HavenCore
import HavenStore

/// "Handled by": within the receiving organisation, one user takes a referral from the inbox
/// and may hand it to a colleague. The sender never sees who handles it.
extension ReferralService {
    /// `user` takes the referral (the actor when nil: "take it"); only a user of the receiving
    /// organisation may do this, and only to an active user of that organisation whose role works
    /// referrals. Audited as `referral.handler`.
    public func setHandler(_ id: UUID, to user: UUID?, context: AccessContext) async throws -> View {
        let keys = store.keys
        return try await store.transaction(context) { transaction in
            let access = try transaction.authorizeReferral(id, .handleReferral)
            guard let actor = transaction.actor else { throw StoreError.notFound("no such referral") }
            let facts = access.facts.facts
            let target = user ?? actor.userID
            guard let candidate = try UserStore.find(target, on: transaction.connection),
                  AccessPolicy.mayHandleReferral(role: candidate.role, active: candidate.active, organisation: candidate.organisationID, facts)
            else { throw StoreError.invalid(ValidationFailure("user", "must be an active user of the receiving organisation")) }
            guard access.facts.status.isOpen, let before = try ReferralStore.find(id, keys: keys, forUpdate: true, on: transaction.connection),
                  before.status.isOpen
            else { throw StoreError.conflict("the referral has ended", field: nil) }
            guard let updated = try ReferralStore.setHandler(id, to: target, keys: keys, on: transaction.connection) else {
                throw StoreError.conflict("the referral has ended", field: nil)
            }
            var detail: [String: AuditDetail] = ["handler": .string(target.lowercasedString), "taken": .bool(target == actor.userID)]
            if let previous = before.handler { detail["previous_handler"] = .string(previous.lowercasedString) }
            try transaction.audit(.update, .referralHandler, entityKind: .referral, entityID: id.lowercasedString, caseID: updated.caseID,
                                  subjectOrganisation: updated.caseOrganisation, purpose: access.purpose, detail: detail)
            return View(referral: updated, side: .recipient)
        }
    }

    /// Whom the referral can be handed to: the receiving organisation's active users whose role
    /// works referrals; asked under the same operation as the hand-over itself.
    public func handlerCandidates(_ id: UUID, context: AccessContext) async throws -> [User] {
        try await store.transaction(context) { transaction in
            let access = try transaction.authorizeReferral(id, .handleReferral)
            let facts = access.facts.facts
            return try ReferralStore.colleagues(of: facts.toOrganisation, on: transaction.connection).filter {
                AccessPolicy.mayHandleReferral(role: $0.role, active: $0.active, organisation: $0.organisationID, facts)
            }
        }
    }
}
