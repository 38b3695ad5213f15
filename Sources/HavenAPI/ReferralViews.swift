import Foundation
import HavenCore
import HavenServices
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
    /// Names the viewer may see beside the ids: both organisations', and the sending user's to
    /// their colleagues (`DirectoryService.Names`).
    var fromOrganisationName: String?
    var toOrganisationName: String?
    var fromUserName: String?
    var handlerName: String?

    /// The same with the names `names` holds for it.
    func named(_ names: DirectoryService.Names) -> ReferralDTO {
        var named = self
        named.fromOrganisationName = names.organisations[fromOrganisation]
        named.toOrganisationName = names.organisations[toOrganisation]
        named.fromUserName = fromUser.flatMap { names.users[$0] }
        named.handlerName = handler.flatMap { names.users[$0] }
        return named
    }

    /// The people and organisations a set of referrals names, to look up at once.
    static func wanted(_ items: [ReferralDTO]) -> (users: Set<UUID>, organisations: Set<UUID>) {
        (Set(items.flatMap { [$0.fromUser, $0.handler].compactMap { $0 } }), Set(items.flatMap { [$0.fromOrganisation, $0.toOrganisation] }))
    }

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
