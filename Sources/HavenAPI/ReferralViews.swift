import Foundation
import HavenCore
import HavenStore

/// A referral as either side sees it. The recipient gets the case reduced to the consented
/// categories (`case`), only while the referral is open; the referral's note travels to the
/// recipient only when `notes` is shared.
struct ReferralDTO: Encodable, Sendable {
    var id: UUID
    var caseId: UUID?
    var caseReference: String
    var needId: UUID?
    var serviceType: ServiceType
    var fromOrganisation: UUID
    var fromUser: UUID?
    var toOrganisation: UUID
    var consentId: UUID?
    var sharedCategories: [DataCategory]
    var priority: NeedPriority
    var dueAt: Date
    var status: ReferralStatus
    var businessStatus: String?
    var statusReason: String?
    var outcome: String?
    var note: String?
    var previousReferralId: UUID?
    var episodeId: UUID?
    var createdAt: Date
    var updatedAt: Date
    var version: Int
    /// Who in the receiving organisation handles it: shown to that organisation only.
    var handler: UUID?
    var handledSince: Date?
    var `case`: SharedCase?
    var coveringOrganisations: [OrganisationSummary]?

    init(_ referral: Referral, side: ReferralSide) {
        let sender = side == .sender
        id = referral.id
        caseId = sender ? referral.caseID : nil
        caseReference = referral.caseReference
        needId = sender ? referral.needID : nil
        serviceType = referral.serviceType
        fromOrganisation = referral.fromOrganisation
        fromUser = sender ? referral.fromUser : nil
        toOrganisation = referral.toOrganisation
        consentId = sender ? referral.consentID : nil
        sharedCategories = referral.sharedCategories
        priority = referral.priority
        dueAt = referral.dueAt
        status = referral.status
        businessStatus = referral.businessStatus
        statusReason = referral.statusReason
        outcome = referral.outcome
        note = referral.note(seenFrom: side)
        previousReferralId = referral.previousReferralID
        episodeId = referral.episodeID
        createdAt = referral.createdAt
        updatedAt = referral.updatedAt
        version = referral.version
        handler = referral.handler(seenFrom: side)
        handledSince = handler == nil ? nil : referral.handledSince
    }
}

/// The part of a case a consent releases to a referral's recipient, as `SharedPart` decides it.
struct SharedCase: Encodable, Sendable {
    var reference: String
    var caseType: CaseType?
    var person: PersonDTO?
    var trafficking: TraffickingProfile?
    var violence: ViolenceProfile?
    var needs: [NeedDTO]?
    var services: [ServiceDTO]?
    var note: String?

    init(_ part: SharedPart) {
        reference = part.reference
        caseType = part.caseType
        if part.profile != nil || part.identity != nil {
            person = PersonDTO(profile: part.profile ?? PersonProfile(), identity: part.identity)
        }
        trafficking = part.trafficking
        violence = part.violence
        needs = part.needs?.map { NeedDTO($0) }
        services = part.services?.map { ServiceDTO($0) }
        note = part.note
    }
}
