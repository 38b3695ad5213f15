import Foundation
import HavenCore
import HavenStore

/// Emergency access to a case outside one's own (S19): it needs a reason, expires, is audited,
/// and lands in a supervisor's review queue.
public struct BreakGlassService: Sendable {
    let store: Store
    let duration: Duration

    public init(store: Store, duration: Duration = .seconds(3600)) {
        self.store = store
        self.duration = duration
    }

    /// Opens a grant on the case; `answer` shapes what a retry with the same key gets back.
    public func start(
        on caseID: UUID, reason: String, request: Idempotent.Request, context: AccessContext,
        answer: @escaping @Sendable (BreakGlassGrant) throws -> Idempotent.Answer
    ) async throws -> Idempotent.Outcome {
        var check = Validator()
        Self.checkReason(reason, &check)
        try check.finish()
        let keys = store.keys
        let duration = self.duration
        return try await Idempotent.run(request, store: store, context: context) { transaction in
            let access = try transaction.authorizeCase(caseID, .breakGlass)
            guard let actor = transaction.actor else { throw StoreError.notFound("no such case") }
            let grant = try BreakGlassStore.create(caseID: caseID, caseOrganisation: access.facts.owningOrganisation, reason: reason,
                                                   actor: actor, duration: duration, keys: keys, on: transaction.connection)
            try transaction.audit(.execute, .breakglassStart, entityKind: .breakGlassGrant, entityID: grant.id.lowercasedString, caseID: caseID,
                                  subjectOrganisation: access.facts.owningOrganisation, purpose: .breakGlass,
                                  detail: ["expires_in_seconds": .int(Int(duration.components.seconds))])
            // Supervisors of the case's organisation review it, and those of the holder's when it is another.
            for organisation in Set([access.facts.owningOrganisation, actor.organisationID]) {
                transaction.notify(NotificationMessage(kind: .breakGlassStarted, recipientOrganisation: organisation, caseReference: nil,
                                                       priority: .urgent, link: NotificationLink.breakGlass),
                                   referenceOf: caseID)
            }
            return try answer(grant)
        }
    }

    /// The same, for the case whose reference the supervisor was given: the console asks for a
    /// reference, never an id. An unknown reference is the same 404 as a case out of reach.
    public func start(
        reference: String, reason: String, request: Idempotent.Request, context: AccessContext,
        answer: @escaping @Sendable (BreakGlassGrant) throws -> Idempotent.Answer
    ) async throws -> Idempotent.Outcome {
        var check = Validator()
        check.text(reference, "reference", required: true, max: 64)
        Self.checkReason(reason, &check)
        try check.finish()
        let wanted = reference.trimmingCharacters(in: .whitespaces)
        let found = try await store.transaction(context) { transaction in try BreakGlassStore.caseID(reference: wanted, on: transaction.connection) }
        guard let caseID = found else { throw StoreError.notFound("no such case") }
        return try await start(on: caseID, reason: reason, request: request, context: context, answer: answer)
    }

    static func checkReason(_ reason: String, _ check: inout Validator) {
        check.text(reason, "reason", required: true, max: 2_000, multiline: true)
        check.check(reason.trimmingCharacters(in: .whitespacesAndNewlines).count >= 10, "reason", "must explain the emergency (at least 10 characters)")
    }

    /// The grants the actor may review (a supervisor's organisation's), reviewed or not.
    public func list(reviewed: Bool?, page: PageRequest, context: AccessContext) async throws -> Page<BreakGlassGrant> {
        guard let actor = context.actor else { throw StoreError.forbidden("log in first") }
        let keys = store.keys
        return try await store.transaction(context) { transaction in
            try transaction.authorize(.listBreakGlassGrants, .collection, entityKind: .breakGlassGrant)
            try transaction.audit(.read, .breakglassList, entityKind: .breakGlassGrant, subjectOrganisation: actor.organisationID,
                                  purpose: .supervision, detail: page.auditDetail(filters: reviewed == nil ? [] : ["reviewed"]))
            transaction.commitWithNextStatement()
            return try BreakGlassStore.list(actor: actor, reviewed: reviewed, after: page.cursor, limit: page.limit, keys: keys, on: transaction.connection)
        }
    }

    public func read(_ id: UUID, context: AccessContext) async throws -> BreakGlassGrant {
        try await store.transaction(context) { transaction in
            let (grant, purpose) = try transaction.authorizeAndLoadGrant(id, .readBreakGlassGrant)
            try transaction.audit(.read, .breakglassRead, entityKind: .breakGlassGrant, entityID: id.lowercasedString,
                                  caseID: grant.caseID, subjectOrganisation: grant.caseOrganisation, purpose: purpose)
            return grant
        }
    }

    public func review(_ id: UUID, note: String?, context: AccessContext) async throws -> BreakGlassGrant {
        var check = Validator()
        check.text(note, "note", max: 2_000, multiline: true)
        try check.finish()
        let keys = store.keys
        return try await store.transaction(context) { transaction in
            let (grant, _) = try transaction.authorizeAndLoadGrant(id, .reviewBreakGlassGrant)
            guard let actor = transaction.actor else { throw StoreError.notFound("no such break-glass-grant") }
            let reviewed = try BreakGlassStore.review(grant, note: note, actor: actor, keys: keys, on: transaction.connection)
            try transaction.audit(.update, .breakglassReview, entityKind: .breakGlassGrant, entityID: id.lowercasedString,
                                  caseID: grant.caseID, subjectOrganisation: grant.caseOrganisation, purpose: .supervision)
            return reviewed
        }
    }
}
