import Foundation
import HavenCore
import HavenStore

struct PersonDTO: Encodable, Sendable {
    var identity: PersonIdentity?
    var sex: Sex
    var birthYear: Int?
    var ageBand: AgeBand?
    var citizenship: String?
    var languages: [String]?
    var minor: Bool?
    var disability: Bool?

    init(profile: PersonProfile, identity: PersonIdentity?) {
        self.identity = identity
        sex = profile.sex
        birthYear = profile.birthYear
        ageBand = profile.ageBand
        citizenship = profile.citizenship
        languages = profile.languages
        minor = profile.minor
        disability = profile.disability
    }
}

struct ClosureDTO: Encodable, Sendable {
    var requestedAt: Date?
    var requestedBy: UUID?
    var reason: String?
    var closedAt: Date?
    var closedBy: UUID?
}

/// A case as its caseworkers and supervisors see it. `summary` leaves out the identifying part
/// and the note (lists never open them).
struct CaseDTO: Encodable, Sendable {
    var id: UUID
    var reference: String
    var organisationId: UUID
    var caseType: CaseType
    var identificationStatus: IdentificationStatus
    var identifiedBy: IdentifiedBy
    var identifiedOn: CalendarDate
    var riskLevel: RiskLevel
    var status: CaseStatus
    var assignee: UUID?
    var createdBy: UUID
    var closure: ClosureDTO?
    var reopenedCount: Int
    var retentionDue: CalendarDate?
    var anonymised: Bool
    var person: PersonDTO
    var trafficking: TraffickingProfile?
    var violence: ViolenceProfile?
    var note: String?
    var createdAt: Date
    var updatedAt: Date
    var version: Int
    /// At intake and when the name changes: other cases that may be the same person.
    var duplicates: DuplicateHint?

    init(_ file: CaseFile) {
        id = file.id
        reference = file.reference
        organisationId = file.organisationID
        caseType = file.caseType
        identificationStatus = file.identificationStatus
        identifiedBy = file.identifiedBy
        identifiedOn = file.identifiedOn
        riskLevel = file.riskLevel
        status = file.status
        assignee = file.assignee
        createdBy = file.createdBy
        if file.closureRequestedAt != nil || file.closedAt != nil {
            closure = ClosureDTO(requestedAt: file.closureRequestedAt, requestedBy: file.closureRequestedBy, reason: file.closureReason,
                                 closedAt: file.closedAt, closedBy: file.closedBy)
        }
        reopenedCount = file.reopenedCount
        retentionDue = file.retentionDue
        anonymised = file.anonymisedAt != nil
        person = PersonDTO(profile: file.profile, identity: file.identity)
        trafficking = file.trafficking
        violence = file.violence
        note = file.note
        createdAt = file.createdAt
        updatedAt = file.updatedAt
        version = file.version
    }
}

struct NeedDTO: Encodable, Sendable {
    var id: UUID
    var caseId: UUID
    var domain: SecurityDomain
    var serviceType: ServiceType
    var priority: NeedPriority
    var dueAt: Date
    var status: String
    var note: String?
    var createdBy: UUID
    var createdAt: Date
    var overdue: Bool
    var reason: String?
    var supersededBy: UUID?
    var metByReferral: UUID?
    var closedBy: UUID?
    var closedAt: Date?
    var caseReference: String?
    var version: Int

    init(_ need: Need, reference: String? = nil) {
        id = need.id
        caseId = need.caseID
        domain = need.domain
        serviceType = need.serviceType
        priority = need.priority
        dueAt = need.dueAt
        status = need.status
        note = need.note
        createdBy = need.createdBy
        createdAt = need.createdAt
        overdue = need.isOverdue(at: Date())
        reason = need.reason
        supersededBy = need.supersededBy
        metByReferral = need.metByReferral
        closedBy = need.closedBy
        closedAt = need.closedAt
        caseReference = reference
        version = need.version
    }
}

struct ServiceDTO: Encodable, Sendable {
    var id: UUID
    var caseId: UUID
    var caseReference: String?
    var needId: UUID?
    var referralId: UUID?
    var type: ServiceType
    var providerOrganisation: UUID?
    var status: ServiceStatus
    var startOn: CalendarDate?
    var dueOn: CalendarDate?
    var endOn: CalendarDate?
    var overdue: Bool
    var outcome: String?
    var detail: ServiceDetail
    var createdAt: Date
    var updatedAt: Date
    var version: Int

    init(_ episode: ServiceEpisode, reference: String? = nil, withNotes: Bool = true) {
        id = episode.id
        caseId = episode.caseID
        caseReference = reference
        needId = episode.needID
        referralId = episode.referralID
        type = episode.type
        providerOrganisation = episode.providerOrganisation
        status = episode.status
        startOn = episode.startOn
        dueOn = episode.dueOn
        endOn = episode.endOn
        overdue = episode.isOverdue(today: CalendarDate.of(Date()))
        outcome = episode.outcome
        detail = withNotes ? episode.detail : episode.detail.withoutNotes
        createdAt = episode.createdAt
        updatedAt = episode.updatedAt
        version = episode.version
    }
}

struct ConsentDTO: Encodable, Sendable {
    var id: UUID
    var caseId: UUID
    var grantor: ConsentGrantor
    var method: ConsentMethod
    var grantedAt: Date
    var expiresAt: Date?
    var withdrawnAt: Date?
    var status: ConsentStatus
    var statistics: Bool
    var provisions: [Consent.Provision]
    var version: Int
    var capacityAssessedBy: UUID?
    var supersedes: UUID?
    var supersededBy: UUID?
    var supersededAt: Date?
    var withdrawnRecipients: [Consent.RecipientWithdrawal]

    init(_ consent: Consent) {
        id = consent.id
        caseId = consent.caseID
        grantor = consent.grantor
        method = consent.method
        grantedAt = consent.grantedAt
        expiresAt = consent.expiresAt
        withdrawnAt = consent.withdrawnAt
        status = consent.status(at: Date())
        statistics = consent.statistics
        provisions = consent.provisions
        version = consent.version
        capacityAssessedBy = consent.capacityAssessedBy
        supersedes = consent.supersedes
        supersededBy = consent.supersededBy
        supersededAt = consent.supersededAt
        withdrawnRecipients = consent.withdrawnRecipients
    }
}

struct GrantDTO: Encodable, Sendable {
    var id: UUID
    var caseId: UUID
    var caseOrganisation: UUID
    var holder: UUID
    var holderOrganisation: UUID
    var reason: String?
    var grantedAt: Date
    var expiresAt: Date
    var active: Bool
    var reviewedBy: UUID?
    var reviewedAt: Date?
    var reviewNote: String?

    init(_ grant: BreakGlassGrant) {
        id = grant.id
        caseId = grant.caseID
        caseOrganisation = grant.caseOrganisation
        holder = grant.holder
        holderOrganisation = grant.holderOrganisation
        reason = grant.reason
        grantedAt = grant.grantedAt
        expiresAt = grant.expiresAt
        active = grant.expiresAt > Date()
        reviewedBy = grant.reviewedBy
        reviewedAt = grant.reviewedAt
        reviewNote = grant.reviewNote
    }
}
