import Foundation
import HavenCore
import HavenStore

/// Sending a referral: the case, its need, the consent and the recipient's mandate are checked
/// here, once, for the API and the console (S15).
extension ReferralService {
    /// The consent does not cover the recipient for every category asked to share (409).
    public struct NotCovered: Error, Sendable {
        public var recipient: String
        public var missing: [DataCategory]
        public var consentStatus: ConsentStatus
    }

    /// The recipient's mandate does not cover the service (422), with organisations whose does.
    public struct OutsideMandate: Error, Sendable {
        public var recipient: String
        public var serviceType: ServiceType
        public var covering: [Organisation]
        /// Set when the recipient provides the service but not to this person (409): what is
        /// known of them that its mandate does not serve.
        public var unserved: [Population] = []
    }

    public func create(
        on caseID: UUID, _ draft: ReferralDraft, request: Idempotent.Request, context: AccessContext,
        answer: @escaping @Sendable (Referral) throws -> Idempotent.Answer
    ) async throws -> Idempotent.Outcome {
        try draft.validate()
        let keys = store.keys
        return try await Idempotent.run(request, store: store, context: context) { transaction in
            let access = try transaction.authorizeCase(caseID, .createReferral)
            try transaction.requireOpen(access.status)
            guard let actor = transaction.actor,
                  // Opened for the date of birth only: the person's age decides whom the mandate serves, as in the console.
                  let file = try CaseStore.find(caseID, keys: keys, open: true, on: transaction.connection)
            else { throw StoreError.notFound("no such case") }
            let new = try ReferralService.resolve(draft, file: file, actor: actor, on: transaction)
            let referral = try ReferralStore.create(new, actor: actor, keys: keys, now: Date(), on: transaction.connection)
            try transaction.audit(.create, .referralCreate, entityKind: .referral, entityID: referral.id.lowercasedString, caseID: caseID,
                                  subjectOrganisation: file.organisationID, purpose: access.purpose,
                                  detail: ["to_organisation": .string(draft.toOrganisation.lowercasedString),
                                           "service_type": .string(new.serviceType.rawValue),
                                           "shared_categories": .strings(new.sharedCategories.sorted().map(\.rawValue))])
            transaction.notify(NotificationMessage(kind: .referralArrived, recipientOrganisation: referral.toOrganisation,
                                                   caseReference: referral.caseReference, priority: referral.priority,
                                                   link: NotificationLink.referral(referral.id)))
            return try answer(referral)
        }
    }

    /// Checks a new referral against the case, its need, the consent and the recipient's mandate.
    static func resolve(_ draft: ReferralDraft, file: CaseFile, actor: Actor, on transaction: StoreTransaction) throws -> ReferralStore.NewReferral {
        let connection = transaction.connection
        let keys = transaction.keys
        let invalid = { (field: String, reason: String) in StoreError.invalid(ValidationFailure(field, reason)) }
        guard draft.toOrganisation != actor.organisationID else { throw invalid("to_organisation", "must be another organisation") }
        guard let recipient = try OrganisationStore.find(draft.toOrganisation, on: connection) else {
            throw invalid("to_organisation", "is not an organisation")
        }
        guard recipient.active else { throw invalid("to_organisation", "is deactivated and takes no referrals") }
        var serviceType = draft.serviceType
        var priority = draft.priority ?? .normal
        if let needID = draft.needId {
            guard let need = try NeedStore.find(needID, caseID: file.id, keys: keys, on: connection) else {
                throw invalid("need_id", "is not a need of this case")
            }
            if let given = serviceType, given != need.serviceType {
                throw invalid("service_type", "differs from the need's service type (\(need.serviceType.rawValue))")
            }
            serviceType = need.serviceType
            if draft.priority == nil { priority = need.priority }
        }
        guard let serviceType else { throw invalid("service_type", "is required when need_id is not given") }
        // Share-locked until the referral commits: a withdrawal or an amendment waits for it and
        // then ends it, or went first and is seen here. Shared, so referrals under one consent do
        // not wait for each other.
        guard let consent = try ConsentStore.find(draft.consentId, caseID: file.id, keys: keys, forShare: true, on: connection) else {
            throw invalid("consent_id", "is not a consent of this case")
        }
        let missing = consent.missingCategories(Set(draft.sharedCategories), for: recipient.id, at: Date())
        if !missing.isEmpty {
            throw NotCovered(recipient: recipient.name, missing: missing, consentStatus: consent.status(at: Date()))
        }
        // The person's age and sex as the case records them: a boy is not sent to a women's shelter.
        let population = Population.of(file.profile, dateOfBirth: file.identity?.dateOfBirth, today: CalendarDate.of(Date()))
        guard recipient.mandate.covers(serviceType: serviceType, region: nil, population: population) else {
            let covering = try OrganisationStore.matching(serviceType: serviceType, country: nil, region: nil, excluding: actor.organisationID,
                                                          population: population, after: nil, limit: ReferralService.suggestions,
                                                          on: connection).items
            let provides = recipient.mandate.covers(serviceType: serviceType, region: nil)
            throw OutsideMandate(recipient: recipient.name, serviceType: serviceType, covering: covering,
                                 unserved: provides ? population.filter { !recipient.mandate.serves([$0]) } : [])
        }
        if let previous = draft.previousReferralId {
            guard let old = try ReferralStore.find(previous, keys: keys, openNote: false, on: connection), old.caseID == file.id, old.status.isTerminal else {
                throw invalid("previous_referral_id", "must be an ended referral of this case")
            }
        }
        return ReferralStore.NewReferral(
            caseID: file.id, caseOrganisation: file.organisationID, caseReference: file.reference, needID: draft.needId,
            serviceType: serviceType, toOrganisation: recipient.id, consentID: consent.id, sharedCategories: draft.sharedCategories,
            priority: priority, note: draft.note, previousReferralID: draft.previousReferralId)
    }
}
