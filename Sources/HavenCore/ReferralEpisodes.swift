import Foundation

/// What the receiving organisation records on a referral it accepted: its own service
/// episodes (a stay and its extensions, counselling sessions, medical, legal and reintegration
/// steps), with counselling sessions added and corrected one by one.
extension ReferralStatus {
    /// Accepted and still open: the recipient is working the referral and records what it does.
    public var isBeingWorked: Bool {
        switch self {
        case .accepted, .inProgress, .onHold: return true
        default: return false
        }
    }
}

extension NeedPriority {
    /// The day by which the episode a referral's acceptance starts is due: the priority's
    /// response time (24 hours, 72 hours, 14 days) after `accepted`.
    public func serviceDue(acceptedAt accepted: Date) -> CalendarDate {
        CalendarDate.of(deadline(from: accepted))
    }
}

/// A new episode on a referral: the provider is the recipient and the need the referral's, so
/// neither is given.
public struct ReferralEpisodeDraft: Codable, Sendable, Equatable {
    public var type: ServiceType?
    public var status: ServiceStatus?
    public var startOn: CalendarDate?
    public var dueOn: CalendarDate?
    public var detail: ServiceDetail?

    public init(type: ServiceType? = nil, status: ServiceStatus? = nil, startOn: CalendarDate? = nil, dueOn: CalendarDate? = nil,
                detail: ServiceDetail? = nil) {
        self.type = type
        self.status = status
        self.startOn = startOn
        self.dueOn = dueOn
        self.detail = detail
    }

    /// The case-level draft, of the referral's service type unless another is named.
    public func serviceDraft(referralType: ServiceType, provider: UUID, need: UUID?) -> ServiceDraft {
        ServiceDraft(type: type ?? referralType, providerOrganisation: provider, needId: need, status: status ?? .inProgress,
                     startOn: startOn, dueOn: dueOn, detail: detail)
    }

    public func validate(referralType: ServiceType) throws {
        var check = Validator()
        if let status, status.isFinished { check.add("status", "a new episode is planned or in_progress") }
        if detail?.counselling != nil { check.add("detail.counselling", "sessions are added one by one under sessions") }
        if let startOn, let dueOn { check.check(startOn <= dueOn, "due_on", "must not be before start_on") }
        detail?.validate(&check, type: type ?? referralType)
        try check.finish()
    }
}

/// A change to a referral episode: a case-level patch whose counselling sessions are left as
/// they are (they change one by one) and whose provider stays the recipient.
public enum ReferralEpisodePatch {
    public static func validate(_ patch: ServicePatch) throws {
        var check = Validator()
        if patch.providerOrganisation != nil { check.add("provider_organisation", "is the receiving organisation and does not change") }
        if patch.detail?.counselling != nil { check.add("detail.counselling", "sessions are added and corrected one by one under sessions") }
        try check.finish()
    }

    /// The patch with the episode's sessions kept as they are.
    public static func keepingSessions(_ patch: ServicePatch, of episode: ServiceEpisode) -> ServicePatch {
        var patch = patch
        if var detail = patch.detail {
            detail.counselling = episode.detail.counselling
            patch.detail = detail
        }
        return patch
    }
}

/// A stay extended to a later day: the planned end moves, and the day is kept among the extensions.
public struct StayExtension: Codable, Sendable, Equatable {
    public var until: CalendarDate

    public init(until: CalendarDate) {
        self.until = until
    }

    /// The episode's detail with the stay extended; every broken rule at once.
    public func apply(to episode: ServiceEpisode) throws -> ServiceDetail {
        var check = Validator()
        check.check(episode.type == .safeAccommodation, "until", "only a safe_accommodation stay is extended")
        check.check(!episode.status.isFinished, "until", "a \(episode.status.rawValue) stay is not extended")
        var stay = episode.detail.accommodation ?? ServiceDetail.Accommodation()
        if let planned = stay.plannedUntil ?? episode.dueOn { check.check(planned < until, "until", "must be after the stay's planned end \(planned)") }
        if let from = stay.from ?? episode.startOn { check.check(from <= until, "until", "must not be before the stay began") }
        check.check((stay.extensions?.count ?? 0) < 100, "until", "a stay is extended at most 100 times")
        try check.finish()
        stay.plannedUntil = until
        stay.extensions = (stay.extensions ?? []) + [until]
        var detail = episode.detail
        detail.accommodation = stay
        return detail
    }
}

/// A correction to one counselling session: what is named changes, the rest (its note too) stays.
public struct SessionPatch: Codable, Sendable, Equatable {
    public var date: CalendarDate?
    public var counsellor: String?
    public var minutes: Int?
    public var modality: ServiceDetail.Modality?
    public var note: String?

    public init(date: CalendarDate? = nil, counsellor: String? = nil, minutes: Int? = nil, modality: ServiceDetail.Modality? = nil,
                note: String? = nil) {
        self.date = date
        self.counsellor = counsellor
        self.minutes = minutes
        self.modality = modality
        self.note = note
    }

    public func applied(to session: ServiceDetail.CounsellingSession) -> ServiceDetail.CounsellingSession {
        var session = session
        if let date { session.date = date }
        if let counsellor { session.counsellor = counsellor }
        if let minutes { session.minutes = minutes }
        if let modality { session.modality = modality }
        if let note { session.note = note }
        return session
    }
}

extension ServiceDetail.CounsellingSession {
    /// One session on its own, its fields named as the request names them.
    public func validate() throws {
        var check = Validator()
        check.text(counsellor, "counsellor", required: true, max: 200)
        check.check((1...600).contains(minutes), "minutes", "must be 1-600")
        check.text(note, "note", max: 10_000, multiline: true)
        try check.finish()
    }
}

/// Where a session goes in an episode: only a counselling episode still being worked takes one.
public enum SessionRules {
    public static let maximum = 500

    public static func checkAdding(to episode: ServiceEpisode) throws {
        var check = Validator()
        check.check(episode.type == .counselling, "type", "sessions are recorded on a counselling episode")
        check.check(!episode.status.isFinished, "status", "a \(episode.status.rawValue) episode takes no new session")
        check.check((episode.detail.counselling?.count ?? 0) < maximum, "sessions", "an episode holds at most \(maximum) sessions")
        try check.finish()
    }
}
