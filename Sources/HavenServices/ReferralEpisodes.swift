import Foundation
import HavenCore
import HavenStore

/// The receiving organisation works a referral it accepted: it records its own service
/// episodes on it (a stay and its extensions, counselling sessions one by one, medical, legal
/// and reintegration steps with their dates and outcome). The sender sees them only within
/// the referral's consented `services`, and their notes only with `notes` too.
extension ReferralService {
    /// The episodes on a referral as one side sees them.
    public struct Episodes: Sendable {
        public var referral: Referral
        public var side: ReferralSide
        public var episodes: [ServiceEpisode]
    }

    /// Who asks, on which side, and what the policy decided: the referral's status and
    /// consented categories are facts the decision needs.
    struct EpisodeAccess {
        var referral: Referral
        var side: ReferralSide
        var purpose: Purpose
        /// Free text travels to the recipient, and to the sender only when `notes` are shared.
        var opensNotes: Bool { side == .recipient || referral.sharedCategories.contains(.notes) }
    }

    static func authorizeEpisodes(_ id: UUID, _ operation: AccessOperation, on transaction: StoreTransaction) throws -> EpisodeAccess {
        let access = try transaction.authorizeReferral(id, .readReferral)
        guard let actor = transaction.actor, let side = AccessPolicy.referralSide(actor, access.facts.facts),
              let referral = try ReferralStore.find(id, keys: transaction.keys, openNote: false, on: transaction.connection)
        else { throw StoreError.notFound("no such referral") }
        var facts = access.facts.facts
        facts.status = access.facts.status
        facts.sharesServices = referral.sharedCategories.contains(.services)
        let purpose = try transaction.authorize(operation, .referral(facts), entityKind: .referral, entityID: id.lowercasedString,
                                                caseID: referral.caseID, subjectOrganisation: referral.caseOrganisation)
        return EpisodeAccess(referral: referral, side: side, purpose: purpose)
    }

    public func episodes(of id: UUID, context: AccessContext) async throws -> Episodes {
        try await store.transaction(context) { transaction in
            let access = try Self.authorizeEpisodes(id, .readReferralServices, on: transaction)
            let episodes = try ServiceStore.list(referralID: id, keys: transaction.keys, openNotes: access.opensNotes, on: transaction.connection)
            try transaction.audit(.read, .serviceList, entityKind: .service, caseID: access.referral.caseID,
                                  subjectOrganisation: access.referral.caseOrganisation, purpose: access.purpose,
                                  detail: ["referral": .string(id.lowercasedString), "side": .string(access.side.rawValue),
                                           "count": .int(episodes.count), "notes": .bool(access.opensNotes)])
            return Episodes(referral: access.referral, side: access.side, episodes: episodes)
        }
    }

    public func episode(_ episodeID: UUID, of id: UUID, context: AccessContext) async throws -> ServiceEpisode {
        try await store.transaction(context) { transaction in
            let access = try Self.authorizeEpisodes(id, .readReferralServices, on: transaction)
            guard var episode = try ServiceStore.find(episodeID, referralID: id, keys: transaction.keys, on: transaction.connection) else {
                throw StoreError.notFound("no such service")
            }
            if !access.opensNotes { episode.detail = episode.detail.withoutNotes }
            try transaction.audit(.read, .serviceRead, entityKind: .service, entityID: episodeID.lowercasedString, caseID: access.referral.caseID,
                                  subjectOrganisation: access.referral.caseOrganisation, purpose: access.purpose,
                                  detail: ["referral": .string(id.lowercasedString), "side": .string(access.side.rawValue)])
            return episode
        }
    }

    /// A new episode of the recipient's on the referral (a second stay, a medical or legal step),
    /// once per `Idempotency-Key`: a retry answers the first episode again.
    public func addEpisode(
        to id: UUID, _ draft: ReferralEpisodeDraft, request: Idempotent.Request, context: AccessContext,
        answer: @escaping @Sendable (ServiceEpisode) throws -> Idempotent.Answer
    ) async throws -> Idempotent.Outcome {
        try await Idempotent.run(request, store: store, context: context, replay: { try Self.replayOnReferral(id, request, $0) }) { transaction in
            try answer(try Self.addEpisode(to: id, draft, on: transaction))
        }
    }

    /// A retry's first answer is read again as the referral's episodes are: the policy is asked
    /// now (the referral may have ended, the consent lapsed), and the read is audited.
    static func replayOnReferral(_ id: UUID, _ request: Idempotent.Request, _ transaction: StoreTransaction) throws {
        let access = try authorizeEpisodes(id, .readReferralServices, on: transaction)
        try transaction.audit(.read, .idempotencyReplay, entityKind: .referral, entityID: id.lowercasedString, caseID: access.referral.caseID,
                              subjectOrganisation: access.referral.caseOrganisation, purpose: access.purpose,
                              detail: ["scope": .string(request.scope)])
    }

    static func addEpisode(to id: UUID, _ draft: ReferralEpisodeDraft, on transaction: StoreTransaction) throws -> ServiceEpisode {
        let access = try Self.authorizeEpisodes(id, .recordReferralService, on: transaction)
        guard let actor = transaction.actor else { throw StoreError.notFound("no such referral") }
        let referral = access.referral
        do { try draft.validate(referralType: referral.serviceType) } catch let failure as ValidationFailure { throw StoreError.invalid(failure) }
        let service = draft.serviceDraft(referralType: referral.serviceType, provider: referral.toOrganisation, need: referral.needID)
        try CaseService.checkReferences(nil, needID: nil, caseID: referral.caseID, detail: service.detail, on: transaction)
        let episode = try ServiceStore.create(caseID: referral.caseID, service, referralID: id, actor: actor, keys: transaction.keys,
                                              on: transaction.connection)
        try transaction.audit(.create, .serviceCreate, entityKind: .service, entityID: episode.id.lowercasedString, caseID: referral.caseID,
                              subjectOrganisation: referral.caseOrganisation, purpose: access.purpose,
                              detail: ["referral": .string(id.lowercasedString), "type": .string(episode.type.rawValue),
                                       "status": .string(episode.status.rawValue)])
        return episode
    }

    /// Dates, status and outcome of one of the recipient's episodes; its sessions change one by one.
    public func updateEpisode(_ episodeID: UUID, of id: UUID, _ patch: ServicePatch, expectedVersion: Int?,
                              context: AccessContext) async throws -> ServiceEpisode {
        try await changeEpisode(episodeID, of: id, expectedVersion: expectedVersion, context: context, subtype: .serviceUpdate) { current, transaction in
            try ReferralEpisodePatch.validate(patch)
            let merged = ReferralEpisodePatch.keepingSessions(patch, of: current)
            try merged.validate(against: current)
            try CaseService.checkReferences(nil, needID: nil, caseID: current.caseID, detail: merged.detail, on: transaction)
            let changed = merged.changes(to: current)
            let updated = changed.isEmpty ? current
                : try ServiceStore.update(current, merged, keys: transaction.keys, on: transaction.connection)
            var detail: [String: AuditDetail] = ["fields": .strings(changed)]
            if updated.status != current.status { detail["from"] = .string(current.status.rawValue); detail["to"] = .string(updated.status.rawValue) }
            return (updated, detail)
        }
    }

    /// A stay extended to a later day: its planned end and due date move, the day is kept.
    public func extendStay(_ episodeID: UUID, of id: UUID, _ extension: StayExtension, expectedVersion: Int?,
                           context: AccessContext) async throws -> ServiceEpisode {
        try await changeEpisode(episodeID, of: id, expectedVersion: expectedVersion, context: context, subtype: .serviceExtend) { current, transaction in
            let detail = try `extension`.apply(to: current)
            let updated = try ServiceStore.replaceDetail(detail, dueOn: `extension`.until, of: current, keys: transaction.keys, on: transaction.connection)
            return (updated, ["until": .string(`extension`.until.description), "extensions": .int(detail.accommodation?.extensions?.count ?? 0)])
        }
    }

    /// One counselling session more, once per `Idempotency-Key`: a retry answers the first
    /// session again and adds none. `answer` gets the episode and the new session's index.
    public func addSession(
        _ session: ServiceDetail.CounsellingSession, to episodeID: UUID, of id: UUID, request: Idempotent.Request, context: AccessContext,
        answer: @escaping @Sendable (ServiceEpisode, Int) throws -> Idempotent.Answer
    ) async throws -> Idempotent.Outcome {
        try await Idempotent.run(request, store: store, context: context, replay: { try Self.replayOnReferral(id, request, $0) }) { transaction in
            let episode = try Self.changeEpisode(episodeID, of: id, expectedVersion: nil, subtype: .serviceSessionCreate,
                                                 on: transaction) { current, transaction in
                try session.validate()
                try SessionRules.checkAdding(to: current)
                let (updated, index) = try ServiceStore.addSession(session, to: current, keys: transaction.keys, on: transaction.connection)
                return (updated, ["session": .int(index), "minutes": .int(session.minutes), "modality": .string(session.modality.rawValue)])
            }
            // Sessions only ever append, so the new one is the last.
            return try answer(episode, max((episode.detail.counselling?.count ?? 1) - 1, 0))
        }
    }

    /// Corrects one session; the others and their notes stay as they are.
    public func correctSession(_ index: Int, of episodeID: UUID, referral id: UUID, _ patch: SessionPatch, expectedVersion: Int?,
                               context: AccessContext) async throws -> ServiceEpisode {
        try await changeEpisode(episodeID, of: id, expectedVersion: expectedVersion, context: context, subtype: .serviceSessionUpdate) { current, transaction in
            guard let sessions = current.detail.counselling, sessions.indices.contains(index) else { throw StoreError.notFound("no such session") }
            try patch.applied(to: sessions[index]).validate()
            var fields: [String] = []
            if patch.date != nil { fields.append("date") }
            if patch.counsellor != nil { fields.append("counsellor") }
            if patch.minutes != nil { fields.append("minutes") }
            if patch.modality != nil { fields.append("modality") }
            if patch.note != nil { fields.append("note") }
            let updated = try ServiceStore.correctSession(index, patch, of: current, keys: transaction.keys, on: transaction.connection)
            return (updated, ["session": .int(index), "fields": .strings(fields)])
        }
    }

    /// One change to one of the recipient's episodes, under the policy, locked, versioned and audited.
    func changeEpisode(
        _ episodeID: UUID, of id: UUID, expectedVersion: Int?, context: AccessContext, subtype: AuditSubtype,
        _ work: @escaping @Sendable (ServiceEpisode, StoreTransaction) throws -> (ServiceEpisode, [String: AuditDetail])
    ) async throws -> ServiceEpisode {
        try await store.transaction(context) { transaction in
            try Self.changeEpisode(episodeID, of: id, expectedVersion: expectedVersion, subtype: subtype, on: transaction, work)
        }
    }

    /// The same inside a transaction already open (a creating request's, under its key).
    static func changeEpisode(
        _ episodeID: UUID, of id: UUID, expectedVersion: Int?, subtype: AuditSubtype, on transaction: StoreTransaction,
        _ work: (ServiceEpisode, StoreTransaction) throws -> (ServiceEpisode, [String: AuditDetail])
    ) throws -> ServiceEpisode {
        let access = try Self.authorizeEpisodes(id, .recordReferralService, on: transaction)
        guard let current = try ServiceStore.find(episodeID, referralID: id, keys: transaction.keys, forUpdate: true, on: transaction.connection) else {
            throw StoreError.notFound("no such service")
        }
        if let expectedVersion, expectedVersion != current.version { throw StoreError.preconditionFailed("the service changed since you read it") }
        let (updated, detail): (ServiceEpisode, [String: AuditDetail])
        do { (updated, detail) = try work(current, transaction) } catch let failure as ValidationFailure { throw StoreError.invalid(failure) }
        var audited = detail
        audited["referral"] = .string(id.lowercasedString)
        try transaction.audit(.update, subtype, entityKind: .service, entityID: episodeID.lowercasedString, caseID: current.caseID,
                              subjectOrganisation: access.referral.caseOrganisation, purpose: access.purpose, detail: audited)
        return updated
    }
}
