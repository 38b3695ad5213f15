import Foundation

public struct Need: Sendable, Equatable {
    public var id: UUID
    public var caseID: UUID
    public var domain: SecurityDomain
    public var serviceType: ServiceType
    public var priority: NeedPriority
    public var dueAt: Date
    public var status: String
    public var note: String?
    public var createdBy: UUID
    public var createdAt: Date
    /// How it ended (see NeedOutcome.swift): why, the need that replaced it, the referral that met it.
    public var reason: String?
    public var supersededBy: UUID?
    public var metByReferral: UUID?
    public var closedBy: UUID?
    public var closedAt: Date?
    public var version: Int

    public init(id: UUID, caseID: UUID, domain: SecurityDomain, serviceType: ServiceType, priority: NeedPriority, dueAt: Date,
                status: String, note: String?, createdBy: UUID, createdAt: Date, reason: String? = nil, supersededBy: UUID? = nil,
                metByReferral: UUID? = nil, closedBy: UUID? = nil, closedAt: Date? = nil, version: Int = 1) {
        self.id = id
        self.caseID = caseID
        self.domain = domain
        self.serviceType = serviceType
        self.priority = priority
        self.dueAt = dueAt
        self.status = status
        self.note = note
        self.createdBy = createdBy
        self.createdAt = createdAt
        self.reason = reason
        self.supersededBy = supersededBy
        self.metByReferral = metByReferral
        self.closedBy = closedBy
        self.closedAt = closedAt
        self.version = version
    }
}

public struct ServiceEpisode: Sendable, Equatable {
    public var id: UUID
    public var caseID: UUID
    public var needID: UUID?
    public var referralID: UUID?
    public var type: ServiceType
    public var providerOrganisation: UUID?
    public var status: ServiceStatus
    public var startOn: CalendarDate?
    public var dueOn: CalendarDate?
    public var endOn: CalendarDate?
    public var outcome: String?
    public var detail: ServiceDetail
    public var createdAt: Date
    public var updatedAt: Date
    public var version: Int

    public init(id: UUID, caseID: UUID, needID: UUID?, referralID: UUID?, type: ServiceType, providerOrganisation: UUID?,
                status: ServiceStatus, startOn: CalendarDate?, dueOn: CalendarDate?, endOn: CalendarDate?, outcome: String?,
                detail: ServiceDetail, createdAt: Date, updatedAt: Date, version: Int) {
        self.id = id
        self.caseID = caseID
        self.needID = needID
        self.referralID = referralID
        self.type = type
        self.providerOrganisation = providerOrganisation
        self.status = status
        self.startOn = startOn
        self.dueOn = dueOn
        self.endOn = endOn
        self.outcome = outcome
        self.detail = detail
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.version = version
    }

    /// Past its due date and not finished: on the worklist.
    public func isOverdue(today: CalendarDate) -> Bool {
        guard !status.isFinished, let dueOn else { return false }
        return dueOn < today
    }
}

public struct Referral: Sendable, Equatable {
    public var id: UUID
    public var caseID: UUID
    public var caseOrganisation: UUID
    public var caseReference: String
    public var needID: UUID?
    public var serviceType: ServiceType
    public var fromOrganisation: UUID
    public var fromUser: UUID
    public var toOrganisation: UUID
    public var consentID: UUID
    public var sharedCategories: [DataCategory]
    public var priority: NeedPriority
    public var dueAt: Date
    public var status: ReferralStatus
    public var businessStatus: String?
    public var statusReason: String?
    public var outcome: String?
    public var note: String?
    public var previousReferralID: UUID?
    public var episodeID: UUID?
    public var createdAt: Date
    public var updatedAt: Date
    public var version: Int
    /// The user of the receiving organisation who took the referral ("handled by"), and since when.
    public var handler: UUID?
    public var handledSince: Date?

    public init(id: UUID, caseID: UUID, caseOrganisation: UUID, caseReference: String, needID: UUID?, serviceType: ServiceType, fromOrganisation: UUID,
                fromUser: UUID, toOrganisation: UUID, consentID: UUID, sharedCategories: [DataCategory], priority: NeedPriority,
                dueAt: Date, status: ReferralStatus, businessStatus: String?, statusReason: String?, outcome: String?, note: String?,
                previousReferralID: UUID?, episodeID: UUID?, createdAt: Date, updatedAt: Date, version: Int,
                handler: UUID? = nil, handledSince: Date? = nil) {
        self.id = id
        self.caseID = caseID
        self.caseOrganisation = caseOrganisation
        self.caseReference = caseReference
        self.needID = needID
        self.serviceType = serviceType
        self.fromOrganisation = fromOrganisation
        self.fromUser = fromUser
        self.toOrganisation = toOrganisation
        self.consentID = consentID
        self.sharedCategories = sharedCategories
        self.priority = priority
        self.dueAt = dueAt
        self.status = status
        self.businessStatus = businessStatus
        self.statusReason = statusReason
        self.outcome = outcome
        self.note = note
        self.previousReferralID = previousReferralID
        self.episodeID = episodeID
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.version = version
        self.handler = handler
        self.handledSince = handledSince
    }
}

extension Referral {
    /// Who handles the referral is the receiving organisation's own arrangement: its users see
    /// it, the sender does not.
    public func handler(seenFrom side: ReferralSide) -> UUID? {
        side == .recipient ? handler : nil
    }

    /// The same for a viewer, by their organisation.
    public func handler(seenBy actor: Actor) -> UUID? {
        handler(seenFrom: actor.organisationID == toOrganisation ? .recipient : .sender)
    }

    /// The sender's note as one side may read it (S15, S16): the sender always; the recipient
    /// only when the consent shared notes, and only while the referral is open. An ended
    /// referral leaves its recipient the status line and its own outcome, nothing the sender
    /// released with it.
    public func note(seenFrom side: ReferralSide) -> String? {
        switch side {
        case .sender: return note
        case .recipient: return status.isOpen && sharedCategories.contains(.notes) ? note : nil
        }
    }
}

public struct ReferralTransition: Sendable, Equatable {
    public var from: ReferralStatus?
    public var to: ReferralStatus
    public var actorUser: UUID?
    public var actorOrganisation: UUID?
    public var reason: String?
    public var businessStatus: String?
    public var outcome: String?
    public var note: String?
    public var at: Date

    public init(from: ReferralStatus?, to: ReferralStatus, actorUser: UUID?, actorOrganisation: UUID?, reason: String?,
                businessStatus: String?, outcome: String?, note: String?, at: Date) {
        self.from = from
        self.to = to
        self.actorUser = actorUser
        self.actorOrganisation = actorOrganisation
        self.reason = reason
        self.businessStatus = businessStatus
        self.outcome = outcome
        self.note = note
        self.at = at
    }
}

public struct BreakGlassGrant: Sendable, Equatable {
    public var id: UUID
    public var caseID: UUID
    public var caseOrganisation: UUID
    public var holder: UUID
    public var holderOrganisation: UUID
    public var reason: String?
    public var grantedAt: Date
    public var expiresAt: Date
    public var reviewedBy: UUID?
    public var reviewedAt: Date?
    public var reviewNote: String?

    public init(id: UUID, caseID: UUID, caseOrganisation: UUID, holder: UUID, holderOrganisation: UUID, reason: String?,
                grantedAt: Date, expiresAt: Date, reviewedBy: UUID?, reviewedAt: Date?, reviewNote: String?) {
        self.id = id
        self.caseID = caseID
        self.caseOrganisation = caseOrganisation
        self.holder = holder
        self.holderOrganisation = holderOrganisation
        self.reason = reason
        self.grantedAt = grantedAt
        self.expiresAt = expiresAt
        self.reviewedBy = reviewedBy
        self.reviewedAt = reviewedAt
        self.reviewNote = reviewNote
    }

    public var facts: GrantFacts { GrantFacts(holder: holder, holderOrganisation: holderOrganisation, caseOrganisation: caseOrganisation) }
}
