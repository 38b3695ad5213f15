import Foundation

/// Intake: what a caseworker records when a person is identified.
public struct CaseDraft: Codable, Sendable, Equatable {
    public var caseType: CaseType
    public var identificationStatus: IdentificationStatus
    public var identifiedBy: IdentifiedBy
    public var identifiedOn: CalendarDate
    public var riskLevel: RiskLevel
    public var assignee: UUID?
    public var person: PersonDraft
    public var trafficking: TraffickingProfile?
    public var violence: ViolenceProfile?
    public var note: String?

    public init(caseType: CaseType, identificationStatus: IdentificationStatus, identifiedBy: IdentifiedBy, identifiedOn: CalendarDate,
                riskLevel: RiskLevel, assignee: UUID? = nil, person: PersonDraft, trafficking: TraffickingProfile? = nil,
                violence: ViolenceProfile? = nil, note: String? = nil) {
        self.caseType = caseType
        self.identificationStatus = identificationStatus
        self.identifiedBy = identifiedBy
        self.identifiedOn = identifiedOn
        self.riskLevel = riskLevel
        self.assignee = assignee
        self.person = person
        self.trafficking = trafficking
        self.violence = violence
        self.note = note
    }

    /// A caseworker's intake without an assignee is theirs; a supervisor's stays unassigned.
    public func assigningDefault(for actor: Actor) -> CaseDraft {
        var draft = self
        if draft.assignee == nil && actor.role == .caseworker { draft.assignee = actor.userID }
        return draft
    }

    public func validate(today: CalendarDate) throws {
        var check = Validator()
        if trafficking != nil && caseType == .domesticViolence {
            check.add("trafficking", "is only recorded for trafficking cases")
        }
        if violence != nil && caseType == .trafficking {
            check.add("violence", "is only recorded for domestic-violence cases")
        }
        CaseDraft.checkCommon(&check, identifiedOn: identifiedOn, person: person, trafficking: trafficking, violence: violence, note: note, today: today)
        try check.finish()
    }

    /// The rules intake and changes share.
    static func checkCommon(_ check: inout Validator, identifiedOn: CalendarDate?, person: PersonDraft?, trafficking: TraffickingProfile?,
                            violence: ViolenceProfile?, note: String?, today: CalendarDate) {
        if let identifiedOn {
            check.check(identifiedOn <= today && identifiedOn.year >= 1990, "identified_on", "must be a date between 1990 and today")
        }
        person?.identity?.validate(&check, today: today)
        person?.profile.validate(&check, today: today)
        trafficking?.validate(&check, today: today)
        violence?.validate(&check, today: today)
        check.text(note, "note", max: 10_000, multiline: true)
    }
}

/// Changes to a case; absent fields stay as they are. `person.identity`, when given, replaces
/// the identifying part whole.
public struct CasePatch: Codable, Sendable, Equatable {
    public var caseType: CaseType?
    public var identificationStatus: IdentificationStatus?
    public var identifiedBy: IdentifiedBy?
    public var identifiedOn: CalendarDate?
    public var riskLevel: RiskLevel?
    public var person: PersonDraft?
    public var trafficking: TraffickingProfile?
    public var violence: ViolenceProfile?
    public var note: String?

    public init(caseType: CaseType? = nil, identificationStatus: IdentificationStatus? = nil, identifiedBy: IdentifiedBy? = nil,
                identifiedOn: CalendarDate? = nil, riskLevel: RiskLevel? = nil, person: PersonDraft? = nil,
                trafficking: TraffickingProfile? = nil, violence: ViolenceProfile? = nil, note: String? = nil) {
        self.caseType = caseType
        self.identificationStatus = identificationStatus
        self.identifiedBy = identifiedBy
        self.identifiedOn = identifiedOn
        self.riskLevel = riskLevel
        self.person = person
        self.trafficking = trafficking
        self.violence = violence
        self.note = note
    }

    public func validate(today: CalendarDate) throws {
        var check = Validator()
        CaseDraft.checkCommon(&check, identifiedOn: identifiedOn, person: person, trafficking: trafficking, violence: violence, note: note, today: today)
        try check.finish()
    }

    public var isEmpty: Bool { self == CasePatch() }
}

public struct NeedDraft: Codable, Sendable, Equatable {
    public var domain: SecurityDomain
    public var serviceType: ServiceType
    public var priority: NeedPriority
    public var note: String?

    public init(domain: SecurityDomain, serviceType: ServiceType, priority: NeedPriority, note: String? = nil) {
        self.domain = domain
        self.serviceType = serviceType
        self.priority = priority
        self.note = note
    }

    public func validate() throws {
        var check = Validator()
        check.text(note, "note", max: 5_000, multiline: true)
        try check.finish()
    }
}

/// Type-specific detail of a service episode. Everything here is non-identifying; free text
/// (counselling notes) is sealed separately.
public struct ServiceDetail: Codable, Sendable, Equatable {
    public struct Repatriation: Codable, Sendable, Equatable {
        public var fromCountry: String?
        public var toCountry: String?
        public var travelDocumentStatus: TravelDocumentStatus?
        public var escort: Bool?
        public var plannedTravelDate: CalendarDate?
        public var actualTravelDate: CalendarDate?
        public var receivingOrganisation: UUID?
        public var fundedFromRepatriationFund: Bool?
        /// In the fund's currency, minor units avoided on purpose: whole amounts only.
        public var amount: Int?

        public init() {}
    }

    public enum TravelDocumentStatus: String, ClosedSet {
        case notNeeded = "not_needed"
        case requested, issued, refused
    }

    public struct CounsellingSession: Codable, Sendable, Equatable {
        public var date: CalendarDate
        public var counsellor: String
        public var minutes: Int
        public var modality: Modality
        public var note: String?

        public init(date: CalendarDate, counsellor: String, minutes: Int, modality: Modality, note: String? = nil) {
            self.date = date
            self.counsellor = counsellor
            self.minutes = minutes
            self.modality = modality
            self.note = note
        }
    }

    public enum Modality: String, ClosedSet {
        case individual, group, family, remote
    }

    public struct Accommodation: Codable, Sendable, Equatable {
        public var shelter: UUID?
        public var from: CalendarDate?
        public var plannedUntil: CalendarDate?
        public var extensions: [CalendarDate]?

        public init() {}
    }

    public var repatriation: Repatriation?
    public var counselling: [CounsellingSession]?
    public var accommodation: Accommodation?

    public init(repatriation: Repatriation? = nil, counselling: [CounsellingSession]? = nil, accommodation: Accommodation? = nil) {
        self.repatriation = repatriation
        self.counselling = counselling
        self.accommodation = accommodation
    }

    func validate(_ check: inout Validator, type: ServiceType) {
        if repatriation != nil && type != .repatriation { check.add("detail.repatriation", "is only for repatriation services") }
        if counselling != nil && type != .counselling { check.add("detail.counselling", "is only for counselling services") }
        if accommodation != nil && type != .safeAccommodation { check.add("detail.accommodation", "is only for safe_accommodation services") }
        if let repatriation {
            check.countryCode(repatriation.fromCountry, "detail.repatriation.from_country")
            check.countryCode(repatriation.toCountry, "detail.repatriation.to_country")
            if let amount = repatriation.amount { check.check((0...10_000_000).contains(amount), "detail.repatriation.amount", "must be 0-10000000") }
        }
        if let sessions = counselling {
            check.check(sessions.count <= 500, "detail.counselling", "must hold at most 500 sessions")
            for (index, session) in sessions.enumerated() {
                let field = "detail.counselling[\(index)]"
                check.text(session.counsellor, "\(field).counsellor", required: true, max: 200)
                check.check((1...600).contains(session.minutes), "\(field).minutes", "must be 1-600")
                check.text(session.note, "\(field).note", max: 10_000, multiline: true)
            }
        }
        if let accommodation, let from = accommodation.from, let until = accommodation.plannedUntil {
            check.check(from <= until, "detail.accommodation.planned_until", "must not be before from")
        }
    }

    /// The same detail without the counselling notes (which are stored sealed apart).
    public var withoutNotes: ServiceDetail {
        var copy = self
        copy.counselling = counselling?.map { var session = $0; session.note = nil; return session }
        return copy
    }
}

public struct ServiceDraft: Codable, Sendable, Equatable {
    public var type: ServiceType
    public var providerOrganisation: UUID?
    public var needId: UUID?
    public var status: ServiceStatus?
    public var startOn: CalendarDate?
    public var dueOn: CalendarDate?
    public var detail: ServiceDetail?

    public init(type: ServiceType, providerOrganisation: UUID? = nil, needId: UUID? = nil, status: ServiceStatus? = nil,
                startOn: CalendarDate? = nil, dueOn: CalendarDate? = nil, detail: ServiceDetail? = nil) {
        self.type = type
        self.providerOrganisation = providerOrganisation
        self.needId = needId
        self.status = status
        self.startOn = startOn
        self.dueOn = dueOn
        self.detail = detail
    }

    public func validate() throws {
        var check = Validator()
        if let startOn, let dueOn { check.check(startOn <= dueOn, "due_on", "must not be before start_on") }
        detail?.validate(&check, type: type)
        try check.finish()
    }
}

public struct ServicePatch: Codable, Sendable, Equatable {
    public var status: ServiceStatus?
    public var providerOrganisation: UUID?
    public var startOn: CalendarDate?
    public var dueOn: CalendarDate?
    public var endOn: CalendarDate?
    public var outcome: String?
    public var detail: ServiceDetail?

    public init(status: ServiceStatus? = nil, providerOrganisation: UUID? = nil, startOn: CalendarDate? = nil, dueOn: CalendarDate? = nil,
                endOn: CalendarDate? = nil, outcome: String? = nil, detail: ServiceDetail? = nil) {
        self.status = status
        self.providerOrganisation = providerOrganisation
        self.startOn = startOn
        self.dueOn = dueOn
        self.endOn = endOn
        self.outcome = outcome
        self.detail = detail
    }

    /// Checks the patch against the service as it is: dates stay in order once merged, and a
    /// status only moves forward (planned → in progress → completed; cancelled from either); a
    /// finished service does not change status again.
    public func validate(against current: ServiceEpisode) throws {
        var check = Validator()
        check.text(outcome, "outcome", max: 2_000, multiline: true)
        detail?.validate(&check, type: current.type)
        let start = startOn ?? current.startOn, due = dueOn ?? current.dueOn, end = endOn ?? current.endOn
        if let start, let due, due < start {
            check.add(dueOn != nil ? "due_on" : "start_on", dueOn != nil ? "must not be before start_on" : "must not be after due_on")
        }
        if let start, let end, end < start {
            check.add(endOn != nil ? "end_on" : "start_on", endOn != nil ? "must not be before start_on" : "must not be after end_on")
        }
        if let status, status != current.status, !current.status.canMove(to: status) {
            check.add("status", current.status.isFinished
                      ? "a \(current.status.rawValue) service does not change status; record a new one"
                      : "cannot go from \(current.status.rawValue) to \(status.rawValue)")
        }
        try check.finish()
    }

    /// The fields this patch would change on `episode`: what the audit names, and nothing at
    /// all means no new version.
    public func changes(to episode: ServiceEpisode) -> [String] {
        var fields: [String] = []
        if let status, status != episode.status { fields.append("status") }
        if let providerOrganisation, providerOrganisation != episode.providerOrganisation { fields.append("provider_organisation") }
        if let startOn, startOn != episode.startOn { fields.append("start_on") }
        if let dueOn, dueOn != episode.dueOn { fields.append("due_on") }
        if let endOn, endOn != episode.endOn { fields.append("end_on") }
        if let outcome, outcome != episode.outcome { fields.append("outcome") }
        if let detail, detail != episode.detail { fields.append("detail") }
        return fields
    }
}
