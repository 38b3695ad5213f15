import Foundation
import HavenCore
import HavenStore

/// What a caseworker records on a case: needs and consents, and the withdrawal of a consent
/// (which ends every open referral relying on it, in the same transaction, S16).
extension CaseService {
    public func addNeed(
        to caseID: UUID, _ draft: NeedDraft, request: Idempotent.Request, context: AccessContext,
        answer: @escaping @Sendable (Need) throws -> Idempotent.Answer
    ) async throws -> Idempotent.Outcome {
        try draft.validate()
        let keys = store.keys
        return try await recordOnOpenCase(caseID, request: request, context: context) { transaction, access, actor in
            let need = try NeedStore.create(caseID: caseID, draft, actor: actor, keys: keys, now: Date(), on: transaction.connection)
            try transaction.audit(.create, .needCreate, entityKind: .need, entityID: need.id.lowercasedString, caseID: caseID,
                                  subjectOrganisation: access.facts.owningOrganisation, purpose: access.purpose,
                                  detail: ["service_type": .string(draft.serviceType.rawValue), "priority": .string(draft.priority.rawValue)])
            return try answer(need)
        }
    }

    public func recordConsent(
        on caseID: UUID, _ draft: ConsentDraft, request: Idempotent.Request, context: AccessContext,
        answer: @escaping @Sendable (Consent) throws -> Idempotent.Answer
    ) async throws -> Idempotent.Outcome {
        try draft.validate(now: Date())
        return try await recordOnOpenCase(caseID, request: request, context: context) { transaction, access, actor in
            let assessed = try Self.checkConsent(draft, of: caseID, actor: actor, transaction: transaction)
            let consent = try ConsentStore.create(caseID: caseID, draft, actor: actor, capacityAssessedBy: assessed ? actor.userID : nil,
                                                  now: Date(), keys: transaction.keys, on: transaction.connection)
            try transaction.audit(.create, .consentCreate, entityKind: .consent, entityID: consent.id.lowercasedString, caseID: caseID,
                                  subjectOrganisation: access.facts.owningOrganisation, purpose: access.purpose,
                                  detail: ["provisions": .int(draft.provisions.count), "statistics": .bool(consent.statistics)])
            return try answer(consent)
        }
    }

    /// What a consent (or a new version of one) must satisfy beyond its own form: recipients that
    /// exist and are active, and a young person's capacity (ConsentCapacity). Returns whether a
    /// supervisor's assessment of capacity is recorded with it.
    static func checkConsent(_ draft: ConsentDraft, of caseID: UUID, actor: Actor, transaction: StoreTransaction) throws -> Bool {
        var check = Validator()
        for (index, provision) in draft.provisions.enumerated() {
            let recipient = try OrganisationStore.find(provision.recipientOrganisation, on: transaction.connection)
            if recipient == nil { check.add("provisions[\(index)].recipient_organisation", "is not an organisation") }
            if recipient?.active == false {
                check.add("provisions[\(index)].recipient_organisation", "is deactivated: consent to share with it releases nothing")
            }
        }
        // Under 18 the person consents alone only from 15 and with a supervisor's assessment of capacity.
        let assessed = draft.capacityAssessed == true
        if assessed && actor.role != .supervisor {
            check.add("capacity_assessed", "can be recorded only by a supervisor")
        }
        if let file = try CaseStore.find(caseID, keys: transaction.keys, open: true, on: transaction.connection) {
            let age = ConsentCapacity.youngestAge(birthYear: file.profile.birthYear, dateOfBirth: file.identity?.dateOfBirth,
                                                  today: CalendarDate.of(Date()))
            if let reason = ConsentCapacity.refusal(grantor: draft.grantor, age: age, minor: file.profile.minor, ageBand: file.profile.ageBand,
                                                    capacityAssessed: assessed && actor.role == .supervisor) {
                check.add("grantor", reason)
            }
        }
        do { try check.finish() } catch let failure as ValidationFailure { throw StoreError.invalid(failure) }
        return assessed
    }

    /// Amends a consent by a new version that supersedes it (both kept, linked). Open referrals
    /// relying on the old version move to the new one where it still covers what they share with
    /// their recipient, and are cancelled where it no longer does (`Consent.carried`), in the same
    /// transaction; the old version releases nothing new.
    public func amendConsent(
        _ consentID: UUID, of caseID: UUID, _ draft: ConsentDraft, request: Idempotent.Request, context: AccessContext,
        answer: @escaping @Sendable (Consent, [UUID], [UUID]) throws -> Idempotent.Answer
    ) async throws -> Idempotent.Outcome {
        try draft.validate(now: Date())
        return try await recordOnOpenCase(caseID, request: request, context: context) { transaction, access, actor in
            guard let old = try ConsentStore.find(consentID, caseID: caseID, keys: transaction.keys, forUpdate: true, on: transaction.connection)
            else { throw StoreError.notFound("no such consent") }
            if let reason = Consent.amendable(old, at: Date()) { throw StoreError.conflict("the consent " + reason, field: nil) }
            let assessed = try Self.checkConsent(draft, of: caseID, actor: actor, transaction: transaction)
            let (amended, moved, cancelled) = try ConsentStore.amend(old, draft, actor: actor, capacityAssessedBy: assessed ? actor.userID : nil,
                                                                     keys: transaction.keys, on: transaction.connection)
            try transaction.audit(.create, .consentAmend, entityKind: .consent, entityID: amended.id.lowercasedString, caseID: caseID,
                                  subjectOrganisation: access.facts.owningOrganisation, purpose: access.purpose,
                                  detail: ["supersedes": .string(old.id.lowercasedString), "provisions": .int(draft.provisions.count),
                                           "statistics": .bool(amended.statistics),
                                           "moved_referrals": .strings(moved.map(\.lowercasedString)),
                                           "cancelled_referrals": .strings(cancelled.map(\.lowercasedString))])
            return try answer(amended, moved, cancelled)
        }
    }

    /// Withdraws a consent for one recipient organisation only: that recipient's open referrals
    /// relying on it end with `consent-withdrawn`; the others keep theirs.
    public func withdrawConsent(_ consentID: UUID, of caseID: UUID, for recipient: UUID, context: AccessContext) async throws -> (Consent, [UUID]) {
        try await store.transaction(context) { transaction in
            let access = try transaction.authorizeCase(caseID, .writeCaseDetails)
            guard let actor = transaction.actor,
                  let consent = try ConsentStore.find(consentID, caseID: caseID, keys: transaction.keys, forUpdate: true, on: transaction.connection)
            else { throw StoreError.notFound("no such consent") }
            if let refusal = consent.recipientWithdrawalRefusal(recipient, at: Date()) {
                if refusal.conflict { throw StoreError.conflict(refusal.reason, field: "recipient_organisation") }
                throw StoreError.invalid(ValidationFailure("recipient_organisation", refusal.reason))
            }
            let (withdrawn, cancelled) = try ConsentStore.withdraw(consent, for: recipient, actor: actor, keys: transaction.keys,
                                                                   on: transaction.connection)
            try transaction.audit(.update, .consentWithdraw, entityKind: .consent, entityID: consentID.lowercasedString, caseID: caseID,
                                  subjectOrganisation: access.facts.owningOrganisation, purpose: access.purpose,
                                  detail: ["recipient_organisation": .string(recipient.lowercasedString),
                                           "cancelled_referrals": .strings(cancelled.map(\.lowercasedString))])
            return (withdrawn, cancelled)
        }
    }

    /// Creates something on an open case the actor may write to, once per key: the policy, the
    /// case's state and the actor are settled here for every kind of record.
    func recordOnOpenCase(
        _ caseID: UUID, request: Idempotent.Request, context: AccessContext,
        _ work: @escaping @Sendable (StoreTransaction, (facts: CaseFacts, status: CaseStatus, purpose: Purpose), Actor) throws -> Idempotent.Answer
    ) async throws -> Idempotent.Outcome {
        try await Idempotent.run(request, store: store, context: context) { transaction in
            let access = try transaction.authorizeCase(caseID, .writeCaseDetails)
            try transaction.requireOpen(access.status)
            guard let actor = transaction.actor else { throw StoreError.notFound("no such case") }
            return try work(transaction, access, actor)
        }
    }

    /// Withdraws a consent; returns it and the referrals its withdrawal cancelled.
    public func withdrawConsent(_ consentID: UUID, of caseID: UUID, context: AccessContext) async throws -> (Consent, [UUID]) {
        try await store.transaction(context) { transaction in
            let access = try transaction.authorizeCase(caseID, .writeCaseDetails)
            guard let actor = transaction.actor,
                  let consent = try ConsentStore.find(consentID, caseID: caseID, keys: transaction.keys, forUpdate: true, on: transaction.connection)
            else { throw StoreError.notFound("no such consent") }
            if consent.status(at: Date()) == .superseded {
                throw StoreError.conflict("the consent has been amended: withdraw its latest version", field: nil)
            }
            let (withdrawn, cancelled) = try ConsentStore.withdraw(consent, actor: actor, keys: transaction.keys, on: transaction.connection)
            try transaction.audit(.update, .consentWithdraw, entityKind: .consent, entityID: consentID.lowercasedString, caseID: caseID,
                                  subjectOrganisation: access.facts.owningOrganisation, purpose: access.purpose,
                                  detail: ["cancelled_referrals": .strings(cancelled.map(\.lowercasedString))])
            return (withdrawn, cancelled)
        }
    }
}
