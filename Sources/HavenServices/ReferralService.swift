import Foundation
import HavenCore
import HavenStore

/// Referrals as either side works them, for the API and the console alike. The state machine
/// is decided here (with `ReferralStateMachine`), and the recipient's view of the case is built
/// here: exactly the consented categories, and only while the referral is open (S15, S16).
public struct ReferralService: Sendable {
    let store: Store
    /// How many covering organisations a refusal for the mandate suggests (the first by name;
    /// `GET /v1/organisations/match` pages through them all).
    public static let suggestions = 50

    public init(store: Store) {
        self.store = store
    }

    /// A referral as one side sees it; `shared` is the consented part of the case, for the
    /// recipient of an open referral only.
    public struct View: Sendable {
        public var referral: Referral
        public var side: ReferralSide
        public var shared: SharedPart?
        /// Organisations whose mandate covers the service, after an `outside-mandate` rejection.
        public var coveringOrganisations: [Organisation]?
    }

    /// A transition the state machine refuses, with what it would allow.
    public struct Refused: Error, Sendable {
        public var refusal: ReferralStateMachine.Refusal
        public var from: ReferralStatus
        public var side: ReferralSide
    }

    /// The actor's organisation's incoming or outgoing referrals.
    public func list(direction: ReferralDirection, status: ReferralStatus?, page: PageRequest, context: AccessContext) async throws -> Page<Referral> {
        guard let actor = context.actor else { throw StoreError.forbidden("log in first") }
        let keys = store.keys
        return try await store.transaction(context) { transaction in
            try transaction.authorize(.listReferrals, .collection, entityKind: .referral)
            try transaction.endLapsedReferrals()
            var detail = page.auditDetail(filters: status == nil ? [] : ["status"])
            detail["direction"] = .string(direction.rawValue)
            try transaction.audit(.read, .referralList, entityKind: .referral, subjectOrganisation: actor.organisationID, purpose: .referral,
                                  detail: detail)
            transaction.commitWithNextStatement()
            return try ReferralStore.list(direction: direction, status: status, actor: actor, after: page.cursor, limit: page.limit,
                                          keys: keys, on: transaction.connection)
        }
    }

    /// The referrals of one case, as its owner sees them.
    public func list(caseID: UUID, context: AccessContext) async throws -> [Referral] {
        let keys = store.keys
        return try await store.transaction(context) { transaction in
            let access = try transaction.authorizeCase(caseID, .readCaseDetails)
            let referrals = try ReferralStore.list(caseID: caseID, keys: keys, on: transaction.connection)
            try transaction.audit(.read, .referralList, entityKind: .referral, caseID: caseID, subjectOrganisation: access.facts.owningOrganisation,
                                  purpose: access.purpose, detail: ["count": .int(referrals.count)])
            return referrals
        }
    }

    /// One referral as the actor's side sees it, audited with the categories it released.
    public func read(_ id: UUID, context: AccessContext) async throws -> View {
        let keys = store.keys
        // One snapshot for the referral and the case behind it: under READ COMMITTED a colleague
        // closing the referral between the two reads hid the case and turned the answer into a 404.
        return try await store.snapshot(context) { transaction in
            let access = try transaction.authorizeReferral(id, .readReferral)
            guard let actor = transaction.actor,
                  let referral = try ReferralStore.find(id, keys: keys, on: transaction.connection)
            else { throw StoreError.notFound("no such referral") }
            guard let side = AccessPolicy.referralSide(actor, access.facts.facts) else { throw StoreError.notFound("no such referral") }
            var view = View(referral: referral, side: side)
            if side == .recipient && referral.status.isOpen {
                view.shared = try ReferralService.sharedPart(of: referral, on: transaction)
            }
            // The sender is the one who must find another organisation after an outside-mandate rejection.
            if side == .sender { view.coveringOrganisations = try ReferralService.suggestions(after: referral, on: transaction) }
            try transaction.audit(.read, .referralRead, entityKind: .referral, entityID: id.lowercasedString, caseID: referral.caseID,
                                  subjectOrganisation: referral.caseOrganisation, purpose: access.purpose,
                                  detail: ["side": .string(side.rawValue),
                                           "released_categories": .strings(view.shared == nil ? [] : referral.sharedCategories.map(\.rawValue))])
            return view
        }
    }

    /// After an `outside-mandate` rejection, organisations whose mandate covers the service and
    /// serves the person, neither side of the referral; nil after anything else.
    static func suggestions(after referral: Referral, on transaction: StoreTransaction) throws -> [Organisation]? {
        guard referral.status == .rejected, referral.statusReason == RejectionReason.outsideMandate.rawValue else { return nil }
        let file = try CaseStore.find(referral.caseID, keys: transaction.keys, open: true, on: transaction.connection)
        let population = file.map { Population.of($0.profile, dateOfBirth: $0.identity?.dateOfBirth, today: CalendarDate.of(Date())) } ?? []
        // One more than shown, as the sender is left out here.
        return try OrganisationStore.matching(
            serviceType: referral.serviceType, country: nil, region: nil, excluding: referral.toOrganisation, population: population,
            after: nil, limit: ReferralService.suggestions + 1, on: transaction.connection).items
            .filter { $0.id != referral.fromOrganisation }.prefix(ReferralService.suggestions).map { $0 }
    }

    /// The part of the case the referral's consented categories release; sealed values are
    /// opened only for a category that releases them.
    static func sharedPart(of referral: Referral, on transaction: StoreTransaction) throws -> SharedPart {
        let keys = transaction.keys
        let connection = transaction.connection
        let categories = Set(referral.sharedCategories)
        let reading = SharedPart.reading(categories)
        guard let file = try CaseStore.find(referral.caseID, keys: keys, open: reading.opensCase, openProfile: reading.opensProfile,
                                             on: connection) else {
            throw StoreError.notFound("no such referral")
        }
        let needs = reading.needs ? try NeedStore.list(caseID: file.id, keys: keys, open: reading.opensNeedNotes, on: connection) : nil
        let services = reading.services ? try ServiceStore.list(caseID: file.id, keys: keys, openNotes: reading.opensServiceNotes, on: connection) : nil
        return SharedPart(file, needs: needs, services: services, categories: categories)
    }

    /// Moves a referral from the actor's side: the state machine decides, except for a
    /// recipient changing only the business status of an open referral. Its side effects on
    /// service episodes happen in the store, in the same transaction.
    public func transition(_ id: UUID, _ move: TransitionRequest, context: AccessContext) async throws -> View {
        try move.validate()
        let keys = store.keys
        return try await store.transaction(context) { transaction in
            let access = try transaction.authorizeReferral(id, .readReferral)
            guard let actor = transaction.actor else { throw StoreError.notFound("no such referral") }
            guard let side = AccessPolicy.referralSide(actor, access.facts.facts) else { throw StoreError.notFound("no such referral") }
            try transaction.authorize(side == .recipient ? .transitionReferralAsRecipient : .transitionReferralAsSender, .referral(access.facts.facts),
                                      entityKind: .referral, entityID: id.lowercasedString, caseID: access.facts.caseID,
                                      subjectOrganisation: access.facts.facts.caseFacts.owningOrganisation)
            guard let current = try ReferralStore.find(id, keys: keys, forUpdate: true, on: transaction.connection) else {
                throw StoreError.notFound("no such referral")
            }
            let businessOnly = move.to == current.status && current.status.isOpen && move.businessStatus != nil && side == .recipient
            if !businessOnly, let refusal = ReferralStateMachine.check(from: current.status, to: move.to, side: side, reason: move.reason, outcome: move.outcome) {
                throw Refused(refusal: refusal, from: current.status, side: side)
            }
            // Before the move: while the referral is open, the case and its need are still the recipient's to see.
            if move.to == .completed, current.status != .completed, let needID = current.needID,
               try NeedStore.meet(needID, byReferral: id, actor: actor, on: transaction.connection) {
                try transaction.audit(.update, .needClose, entityKind: .need, entityID: needID.lowercasedString, caseID: current.caseID,
                                      subjectOrganisation: current.caseOrganisation, purpose: access.purpose,
                                      detail: ["outcome": "met", "referral": .string(id.lowercasedString)])
            }
            let updated = try ReferralStore.transition(current, move, actor: actor, keys: keys, on: transaction.connection)
            var detail: [String: AuditDetail] = ["from": .string(current.status.rawValue), "to": .string(updated.status.rawValue), "side": .string(side.rawValue)]
            if let reason = move.reason { detail["reason"] = .string(reason) }
            if let business = move.businessStatus { detail["business_status"] = .string(business) }
            try transaction.audit(.update, .referralTransition, entityKind: .referral, entityID: id.lowercasedString, caseID: current.caseID,
                                  subjectOrganisation: current.caseOrganisation, purpose: access.purpose, detail: detail)
            if updated.status != current.status, let kind = NotificationKind.referralMove(to: updated.status) {
                transaction.notify(Self.answerMessage(kind, updated))
            }
            var view = View(referral: updated, side: side)
            view.coveringOrganisations = try ReferralService.suggestions(after: updated, on: transaction)
            return view
        }
    }

    /// A cancellation is the receiving organisation's to hear (the user handling it, where one
    /// took it); an answer is the sender's.
    static func answerMessage(_ kind: NotificationKind, _ referral: Referral) -> NotificationMessage {
        let toRecipient = kind == .referralCancelled
        return NotificationMessage(kind: kind, recipientOrganisation: toRecipient ? referral.toOrganisation : referral.fromOrganisation,
                                   recipientUser: toRecipient ? referral.handler : referral.fromUser, caseReference: referral.caseReference,
                                   priority: referral.priority, link: NotificationLink.referral(referral.id))
    }

    /// Every transition of a referral, oldest first.
    public func history(_ id: UUID, context: AccessContext) async throws -> [ReferralTransition] {
        let keys = store.keys
        return try await store.transaction(context) { transaction in
            let access = try transaction.authorizeReferral(id, .readReferral)
            let transitions = try ReferralStore.history(id, keys: keys, on: transaction.connection)
            try transaction.audit(.read, .referralHistory, entityKind: .referral, entityID: id.lowercasedString, caseID: access.facts.caseID,
                                  subjectOrganisation: access.facts.facts.caseFacts.owningOrganisation, purpose: access.purpose)
            return transitions
        }
    }
}
