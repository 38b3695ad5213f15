import Foundation

/// A case as stored, with the identifying part opened when the reader may see it.
public struct CaseFile: Sendable, Equatable {
    public var id: UUID
    public var organisationID: UUID
    public var reference: String
    public var caseType: CaseType
    public var identificationStatus: IdentificationStatus
    public var identifiedBy: IdentifiedBy
    public var identifiedOn: CalendarDate
    public var riskLevel: RiskLevel
    public var status: CaseStatus
    public var assignee: UUID?
    public var createdBy: UUID
    public var closureRequestedAt: Date?
    public var closureRequestedBy: UUID?
    public var closureReason: String?
    public var closedAt: Date?
    public var closedBy: UUID?
    public var reopenedCount: Int
    public var retentionDue: CalendarDate?
    public var anonymisedAt: Date?
    public var profile: PersonProfile
    public var identity: PersonIdentity?
    public var trafficking: TraffickingProfile?
    public var violence: ViolenceProfile?
    public var note: String?
    public var createdAt: Date
    public var updatedAt: Date
    public var version: Int

    public init(id: UUID, organisationID: UUID, reference: String, caseType: CaseType, identificationStatus: IdentificationStatus,
                identifiedBy: IdentifiedBy, identifiedOn: CalendarDate, riskLevel: RiskLevel, status: CaseStatus, assignee: UUID?,
                createdBy: UUID, closureRequestedAt: Date?, closureRequestedBy: UUID?, closureReason: String?, closedAt: Date?,
                closedBy: UUID?, reopenedCount: Int, retentionDue: CalendarDate?, anonymisedAt: Date?, profile: PersonProfile,
                identity: PersonIdentity?, trafficking: TraffickingProfile?, violence: ViolenceProfile?, note: String?,
                createdAt: Date, updatedAt: Date, version: Int) {
        self.id = id
        self.organisationID = organisationID
        self.reference = reference
        self.caseType = caseType
        self.identificationStatus = identificationStatus
        self.identifiedBy = identifiedBy
        self.identifiedOn = identifiedOn
        self.riskLevel = riskLevel
        self.status = status
        self.assignee = assignee
        self.createdBy = createdBy
        self.closureRequestedAt = closureRequestedAt
        self.closureRequestedBy = closureRequestedBy
        self.closureReason = closureReason
        self.closedAt = closedAt
        self.closedBy = closedBy
        self.reopenedCount = reopenedCount
        self.retentionDue = retentionDue
        self.anonymisedAt = anonymisedAt
        self.profile = profile
        self.identity = identity
        self.trafficking = trafficking
        self.violence = violence
        self.note = note
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.version = version
    }

    public var facts: CaseFacts {
        CaseFacts(owningOrganisation: organisationID, assignee: assignee, createdBy: createdBy)
    }

    /// Field-level differences, for the audit detail and the case history: names for every
    /// field, old and new values only for fields that identify no one.
    public func changes(to other: CaseFile) -> [FieldChange] {
        var changes: [FieldChange] = []
        func compare(_ name: String, _ old: String?, _ new: String?, identifying: Bool = false) {
            guard old != new else { return }
            changes.append(identifying ? FieldChange(field: name) : FieldChange(field: name, from: old, to: new))
        }
        compare("case_type", caseType.rawValue, other.caseType.rawValue)
        compare("identification_status", identificationStatus.rawValue, other.identificationStatus.rawValue)
        compare("identified_by", identifiedBy.rawValue, other.identifiedBy.rawValue)
        compare("identified_on", identifiedOn.description, other.identifiedOn.description)
        compare("risk_level", riskLevel.rawValue, other.riskLevel.rawValue)
        compare("status", status.rawValue, other.status.rawValue)
        compare("assignee", assignee?.uuidString, other.assignee?.uuidString)
        compare("person.sex", profile.sex.rawValue, other.profile.sex.rawValue)
        // With a name, the birth year finds a person (the duplicate check keys on it; erasure clears it).
        compare("person.birth_year", profile.birthYear.map(String.init), other.profile.birthYear.map(String.init), identifying: true)
        compare("person.age_band", profile.ageBand?.rawValue, other.profile.ageBand?.rawValue)
        compare("person.citizenship", profile.citizenship, other.profile.citizenship)
        compare("person.languages", profile.languages?.joined(separator: ","), other.profile.languages?.joined(separator: ","))
        compare("person.minor", profile.minor.map(String.init), other.profile.minor.map(String.init))
        compare("person.disability", profile.disability.map(String.init), other.profile.disability.map(String.init))
        if identity != other.identity { changes.append(FieldChange(field: "person.identity")) }
        if trafficking != other.trafficking { changes.append(FieldChange(field: "trafficking")) }
        if violence != other.violence { changes.append(FieldChange(field: "violence")) }
        if note != other.note { changes.append(FieldChange(field: "note")) }
        return changes
    }
}

/// One changed field; `from`/`to` only when the field identifies no one.
public struct FieldChange: Codable, Sendable, Equatable {
    public var field: String
    public var from: String?
    public var to: String?

    public init(field: String, from: String? = nil, to: String? = nil) {
        self.field = field
        self.from = from
        self.to = to
    }

    public var auditDetail: AuditDetail {
        var object: [String: AuditDetail] = ["field": .string(field)]
        if let from { object["from"] = .string(from) }
        if let to { object["to"] = .string(to) }
        return .object(object)
    }
}

/// Human-readable, pseudonymous case references: `MD-2026-000123`.
public enum CaseReference {
    public static func make(country: String, year: Int, number: Int) -> String {
        let digits = String(number)
        return "\(country)-\(year)-" + String(repeating: "0", count: max(0, 6 - digits.count)) + digits
    }
}
