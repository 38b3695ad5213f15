import Foundation
import HavenCore
import Postgres
import Sealing

public enum ReferralDirection: String, ClosedSet {
    case incoming, outgoing
}

public enum ReferralStore {
    static let columns = """
        id, case_id, case_organisation_id, case_reference, need_id, service_type, from_organisation_id, from_user_id, to_organisation_id,
        consent_id, shared_categories, priority, due_at, status, business_status, status_reason, outcome, note_sealed,
        previous_referral_id, episode_id, created_at, updated_at, version, outcome_sealed, handler_user_id, handled_since
        """

    static func noteLabel(_ id: UUID) -> String { "referral:\(id.lowercasedString):note" }
    static func transitionNoteLabel(_ transition: UUID) -> String { "referral-transition:\(transition.lowercasedString):note" }
    /// Outcomes are free text, sealed like notes; one written before they were is read in clear
    /// until start-up seals it.
    static func outcomeLabel(_ id: UUID) -> String { FieldSealing.label("referral:", id, ":outcome") }
    static func transitionOutcomeLabel(_ transition: UUID) -> String { FieldSealing.label("referral-transition:", transition, ":outcome") }

    static func decode(_ row: PGRow, keys: KeyRing, openNote: Bool) throws -> Referral {
        let id: UUID = try row.decode(at: 0)
        return Referral(
            id: id, caseID: try row.decode(at: 1), caseOrganisation: try row.decode(at: 2), caseReference: try row.decode(at: 3), needID: try row.decode(at: 4),
            serviceType: try row.code(ServiceType.self, at: 5), fromOrganisation: try row.decode(at: 6),
            fromUser: try row.decode(at: 7), toOrganisation: try row.decode(at: 8), consentID: try row.decode(at: 9),
            sharedCategories: try row.codes(DataCategory.self, at: 10),
            priority: try row.code(NeedPriority.self, at: 11), dueAt: try row.decode(at: 12),
            status: try row.code(ReferralStatus.self, at: 13), businessStatus: try row.decode(at: 14),
            statusReason: try row.decode(at: 15),
            outcome: try FieldSealing.openText(try row.decode([UInt8]?.self, at: 23), outcomeLabel(id), keys: keys) ?? (try row.decode(at: 16)),
            note: openNote ? try FieldSealing.openText(try row.decode([UInt8]?.self, at: 17), noteLabel(id), keys: keys) : nil,
            previousReferralID: try row.decode(at: 18), episodeID: try row.decode(at: 19), createdAt: try row.decode(at: 20),
            updatedAt: try row.decode(at: 21), version: try row.decode(at: 22),
            handler: try row.decode(at: 24), handledSince: try row.decode(at: 25))
    }

    public struct NewReferral: Sendable {
        public var caseID: UUID
        public var caseOrganisation: UUID
        public var caseReference: String
        public var needID: UUID?
        public var serviceType: ServiceType
        public var toOrganisation: UUID
        public var consentID: UUID
        public var sharedCategories: [DataCategory]
        public var priority: NeedPriority
        public var note: String?
        public var previousReferralID: UUID?

        public init(caseID: UUID, caseOrganisation: UUID, caseReference: String, needID: UUID?, serviceType: ServiceType, toOrganisation: UUID,
                    consentID: UUID, sharedCategories: [DataCategory], priority: NeedPriority, note: String?, previousReferralID: UUID?) {
            self.caseID = caseID
            self.caseOrganisation = caseOrganisation
            self.caseReference = caseReference
            self.needID = needID
            self.serviceType = serviceType
            self.toOrganisation = toOrganisation
            self.consentID = consentID
            self.sharedCategories = sharedCategories
            self.priority = priority
            self.note = note
            self.previousReferralID = previousReferralID
        }
    }

    public static func create(_ new: NewReferral, actor: Actor, keys: KeyRing, now: Date, on connection: PGConnection) throws -> Referral {
        let id = UUID()
        let result = try connection.query("""
            INSERT INTO referral (id, case_id, case_organisation_id, case_reference, need_id, service_type, from_organisation_id,
                from_user_id, to_organisation_id, consent_id, shared_categories, priority, due_at, note_sealed, previous_referral_id)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) RETURNING
            """ + " " + columns, [
                id, new.caseID, new.caseOrganisation, new.caseReference, new.needID, new.serviceType.rawValue, actor.organisationID, actor.userID,
                new.toOrganisation, new.consentID, PGTextArray(new.sharedCategories.sorted().map(\.rawValue)), new.priority.rawValue,
                now.addingTimeInterval(new.priority.responseTime), try FieldSealing.sealText(new.note, noteLabel(id), keys: keys),
                new.previousReferralID,
            ])
        try recordTransition(id, from: nil, to: .requested, actor: actor, reason: nil, businessStatus: nil, outcome: nil, note: nil, keys: keys, on: connection)
        return try decode(result[0], keys: keys, openNote: true)
    }

    public struct Facts: Sendable {
        public var facts: ReferralFacts
        public var caseID: UUID
        public var status: ReferralStatus
        public var consent: ConsentStatus
    }

    /// What the policy needs, found whatever the reader's scope (see `CaseStore.facts`).
    public static func facts(_ id: UUID, actor: Actor, on connection: PGConnection) throws -> Facts? {
        let result = try connection.query("""
            SELECT from_organisation_id, to_organisation_id, case_id, case_organisation_id, assigned_to, created_by, status,
                   consent_state, haven_has_break_glass(case_id)
            FROM haven_referral_facts($1)
            """, [id])
        guard let row = result.first else { return nil }
        let grant: Bool = try row.decode(at: 8)
        let caseFacts = CaseFacts(owningOrganisation: try row.decode(at: 3), assignee: try row.decode(at: 4), createdBy: try row.decode(at: 5),
                                  breakGlassHolders: grant ? [actor.userID] : [])
        return Facts(
            facts: ReferralFacts(fromOrganisation: try row.decode(at: 0), toOrganisation: try row.decode(at: 1), caseFacts: caseFacts),
            caseID: try row.decode(at: 2), status: try row.code(ReferralStatus.self, at: 6),
            consent: try row.code(ConsentStatus.self, at: 7))
    }

    public static func find(_ id: UUID, keys: KeyRing, openNote: Bool = true, forUpdate: Bool = false, on connection: PGConnection) throws -> Referral? {
        let sql = "SELECT " + columns + " FROM referral WHERE id = $1" + (forUpdate ? " FOR UPDATE" : "")
        return try connection.query(sql, [id]).first.map { try decode($0, keys: keys, openNote: openNote) }
    }

    public static func list(caseID: UUID, keys: KeyRing, on connection: PGConnection) throws -> [Referral] {
        try connection.query("SELECT " + columns + " FROM referral WHERE case_id = $1 ORDER BY created_at, id", [caseID]).rows.map {
            try decode($0, keys: keys, openNote: false)
        }
    }

    /// An organisation's inbox or outbox, newest activity first.
    public static func list(direction: ReferralDirection, status: ReferralStatus?, actor: Actor, after cursor: String?, limit: Int,
                            keys: KeyRing, on connection: PGConnection) throws -> Page<Referral> {
        var sql = SQLFilter()
        let scope = AccessPolicy.scope(actor, .listReferrals)
        switch (direction, scope) {
        case (.incoming, .ownCases(let organisation, _)):
            // What arrives for the organisation is its caseworkers' work too.
            sql.restrict(to: .organisation(organisation), organisation: "to_organisation_id = ?", ownCases: "false")
        case (.incoming, _):
            sql.restrict(to: scope, organisation: "to_organisation_id = ?", ownCases: "false")
        case (.outgoing, _):
            sql.restrict(to: AccessPolicy.outgoingReferralScope(actor), organisation: "from_organisation_id = ?",
                         ownCases: "case_id IN (SELECT id FROM case_file WHERE assigned_to = ? OR created_by = ?)")
        }
        if let status { sql.add("status = ?", status.rawValue) }
        if let cursor {
            let (micros, id) = try Cursor.timeAndID(cursor)
            sql.add("(updated_at, id) < (timestamptz 'epoch' + ?::bigint * interval '1 microsecond', ?::uuid)", micros, id)
        }
        let limitPlaceholder = sql.bind(limit + 1)
        var items = try connection.query("SELECT " + columns + " FROM referral" + sql.whereClause + " ORDER BY updated_at DESC, id DESC LIMIT "
                                          + limitPlaceholder, sql.parameters).rows.map { try decode($0, keys: keys, openNote: false) }
        var next: String?
        if items.count > limit {
            items.removeLast()
            if let last = items.last { next = Cursor.encode([String(AuditEvent.microseconds(last.updatedAt)), last.id.uuidString]) }
        }
        return Page(items: items, nextCursor: next)
    }

    /// Moves a referral (already checked against the state machine) and does what the move
    /// implies: accepting starts the service episode at the recipient, completing completes it,
    /// ending otherwise cancels it.
    public static func transition(_ referral: Referral, _ request: TransitionRequest, actor: Actor?, keys: KeyRing, on connection: PGConnection) throws -> Referral {
        let target = request.to
        var episodeID = referral.episodeID
        if target == .accepted, episodeID == nil, let actor {
            // Due within the priority's response time, so an episode nobody moves becomes overdue.
            let now = Date()
            let draft = ServiceDraft(type: referral.serviceType, providerOrganisation: referral.toOrganisation, needId: referral.needID,
                                     status: .inProgress, startOn: CalendarDate.of(now), dueOn: referral.priority.serviceDue(acceptedAt: now))
            episodeID = try ServiceStore.create(caseID: referral.caseID, draft, referralID: referral.id, actor: actor, keys: keys, on: connection).id
        }
        if let episodeID, target != referral.status {
            switch target {
            case .completed: try ServiceStore.setStatus(episodeID, .completed, outcome: request.outcome, keys: keys, on: connection)
            case .failed, .cancelled, .rejected, .enteredInError:
                try ServiceStore.setStatus(episodeID, .cancelled, outcome: request.outcome, keys: keys, on: connection)
            default: break
            }
        }
        let result = try connection.query("""
            UPDATE referral SET status = $2, business_status = coalesce($3, business_status),
                status_reason = CASE WHEN $2 = status THEN status_reason ELSE $4 END, outcome_sealed = coalesce($5, outcome_sealed),
                outcome = CASE WHEN $5::bytea IS NULL THEN outcome END,
                episode_id = $6, updated_at = now(), version = version + 1
            WHERE id = $1 RETURNING
            """ + " " + columns, [referral.id, target.rawValue, request.businessStatus, request.reason,
                                  try FieldSealing.sealText(request.outcome, outcomeLabel(referral.id), keys: keys), episodeID])
        try recordTransition(referral.id, from: referral.status, to: target, actor: actor, reason: request.reason,
                             businessStatus: request.businessStatus, outcome: request.outcome, note: request.note, keys: keys, on: connection)
        guard let row = result.first else { throw StoreError.notFound("no such referral") }
        return try decode(row, keys: keys, openNote: true)
    }

    static func recordTransition(_ id: UUID, from: ReferralStatus?, to: ReferralStatus, actor: Actor?, reason: String?, businessStatus: String?,
                                 outcome: String?, note: String?, keys: KeyRing, on connection: PGConnection) throws {
        let uid = UUID()
        try connection.execute("""
            INSERT INTO referral_transition (uid, referral_id, from_status, to_status, actor_user, actor_organisation, reason, business_status,
                outcome_sealed, note_sealed)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
            """, [uid, id, from?.rawValue, to.rawValue, actor?.userID, actor?.organisationID, reason, businessStatus,
                  try FieldSealing.sealText(outcome, transitionOutcomeLabel(uid), keys: keys),
                  try FieldSealing.sealText(note, transitionNoteLabel(uid), keys: keys)])
    }

    public static func history(_ id: UUID, keys: KeyRing, on connection: PGConnection) throws -> [ReferralTransition] {
        try connection.query("""
            SELECT from_status, to_status, actor_user, actor_organisation, reason, business_status, outcome, note_sealed, at, uid, outcome_sealed
            FROM referral_transition WHERE referral_id = $1 ORDER BY id
            """, [id]).rows.map { row in
            let uid: UUID = try row.decode(at: 9)
            return ReferralTransition(
                from: (try row.decode(String?.self, at: 0)).flatMap(ReferralStatus.init(rawValue:)),
                to: try row.code(ReferralStatus.self, at: 1), actorUser: try row.decode(at: 2),
                actorOrganisation: try row.decode(at: 3), reason: try row.decode(at: 4), businessStatus: try row.decode(at: 5),
                outcome: try FieldSealing.openText(try row.decode([UInt8]?.self, at: 10), transitionOutcomeLabel(uid), keys: keys) ?? (try row.decode(at: 6)),
                note: try FieldSealing.openText(try row.decode([UInt8]?.self, at: 7), transitionNoteLabel(uid), keys: keys),
                at: try row.decode(at: 8))
        }
    }

    /// Which open referrals to cancel: those relying on a consent, or all of a case's.
    public enum OpenReferrals: Sendable {
        case relyingOn(consent: UUID)
        case ofCase(UUID)
        /// These referrals, where still open.
        case listed([UUID])

        /// The consent, the case and the referrals to match, all but one nil or empty (a NULL
        /// matches nothing).
        var keys: (consent: UUID?, caseID: UUID?, ids: [UUID]) {
            switch self {
            case .relyingOn(let id): return (id, nil, [])
            case .ofCase(let id): return (nil, id, [])
            case .listed(let ids): return (nil, nil, ids)
            }
        }
    }

    /// Cancels open referrals with `reason`, each with its transition, and their service
    /// episodes. Returns the ids of the cancelled referrals.
    public static func cancelOpen(_ which: OpenReferrals, reason: CancellationReason, actor: Actor?, on connection: PGConnection) throws -> [UUID] {
        try cancelOpen(which, reasonCode: reason.rawValue, actor: actor, on: connection)
    }

    /// The same with the reason's code, whichever fixed list it comes from (`CancellationReason`,
    /// `ClosureCancellation`): the recipient reads it as the referral's status reason.
    static func cancelOpen(_ which: OpenReferrals, reasonCode: String, actor: Actor?, on connection: PGConnection) throws -> [UUID] {
        let result = try connection.query("""
            WITH open AS (
                SELECT id, status, episode_id FROM referral
                WHERE (consent_id = $1 OR case_id = $5 OR id = ANY ($6::uuid[])) AND status IN ('requested', 'received', 'accepted', 'in-progress', 'on-hold')
                FOR UPDATE
            ), cancelled AS (
                UPDATE referral r SET status = 'cancelled', status_reason = $2, updated_at = now(), version = r.version + 1
                FROM open WHERE r.id = open.id
                RETURNING r.id, open.status AS previous, open.episode_id
            ), moved AS (
                INSERT INTO referral_transition (referral_id, from_status, to_status, actor_user, actor_organisation, reason)
                SELECT id, previous, 'cancelled', $3, $4, $2 FROM cancelled
            ), episodes AS (
                UPDATE service_episode SET status = 'cancelled', end_on = coalesce(end_on, current_date), updated_at = now(), version = version + 1
                WHERE id IN (SELECT episode_id FROM cancelled) AND status IN ('planned', 'in_progress')
            )
            SELECT id FROM cancelled
            """, [which.keys.consent, reasonCode, actor?.userID, actor?.organisationID, which.keys.caseID,
                  PGTextArray(which.keys.ids.map(\.uuidString))])
        let cancelled = try result.rows.map { try $0.decode(UUID.self, at: 0) }
        // The receiving organisation stops work on it: told with the same commit.
        NotificationOutbox.enqueueCancellations(of: cancelled, on: connection)
        return cancelled
    }

    /// An expired or withdrawn consent ends the referral the moment anyone looks (S16), not
    /// only when the periodic sweep runs. Returns the reason when it ended it now.
    public static func endIfConsentLapsed(_ id: UUID, on connection: PGConnection) throws -> CancellationReason? {
        // No actor: Haven ends it, whoever's request noticed.
        let result = try connection.query("SELECT haven_end_lapsed_referral($1, NULL, NULL)", [id])
        return (try result.first?.decode(String?.self, at: 0)).flatMap(CancellationReason.init(rawValue:))
    }

    /// A referral Haven ended because its consent lapsed, as its audit event tells it.
    public struct LapsedEnd: Sendable {
        public var id: UUID
        public var caseID: UUID
        public var caseOrganisation: UUID
        public var from: String?
        public var reason: String?
    }

    /// What the audit events of just-ended referrals need: their case, its organisation, the
    /// state they left and why.
    public static func lapsedEnds(_ ids: [UUID], on connection: PGConnection) throws -> [LapsedEnd] {
        guard !ids.isEmpty else { return [] }
        return try connection.query("""
            SELECT r.id, r.case_id, r.case_organisation_id,
                   (SELECT t.from_status FROM referral_transition t WHERE t.referral_id = r.id ORDER BY t.id DESC LIMIT 1), r.status_reason
            FROM referral r WHERE r.id = ANY ($1::uuid[]) ORDER BY r.id
            """, [PGTextArray(ids.map(\.uuidString))]).rows.map { row in
            LapsedEnd(id: try row.decode(at: 0), caseID: try row.decode(at: 1), caseOrganisation: try row.decode(at: 2),
                      from: try row.decode(at: 3), reason: try row.decode(at: 4))
        }
    }

    /// The periodic sweep: ends every open referral whose consent no longer covers its recipient
    /// (expired, withdrawn for everyone or for that recipient, superseded). Returns how many.
    public static func endLapsedReferrals(on connection: PGConnection) throws -> [UUID] {
        // The first test reads the partial indexes (0022, 0033); the second is exact, so a
        // consent withdrawn for another recipient never fills the batch with referrals it keeps.
        let lapsed = try connection.query("""
            SELECT r.id FROM referral r JOIN consent c ON c.id = r.consent_id
            WHERE r.status IN ('requested', 'received', 'accepted', 'in-progress', 'on-hold')
              AND (c.withdrawn_at IS NOT NULL OR (c.expires_at IS NOT NULL AND c.expires_at <= now())
                   OR c.superseded_at IS NOT NULL OR c.withdrawn_recipients <> '[]'::jsonb)
              AND haven_consent_state(c, r.to_organisation_id) <> 'active'
            LIMIT 1000
            """).rows.map { try $0.decode(UUID.self, at: 0) }
        // Only those this sweep ended: a reader may have ended one since it was selected.
        return try lapsed.filter { try endIfConsentLapsed($0, on: connection) != nil }
    }
}
