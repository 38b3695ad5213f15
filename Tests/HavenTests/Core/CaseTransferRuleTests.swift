import Foundation
import HavenCore
import Testing

/// The transfer's rules without a database: which consent covers a transfer, how its states
/// move, and who stands where once the case has moved.
@Suite struct CaseTransferRuleTests {
    let receiving = UUID()
    let other = UUID()
    let now = Date()

    func consent(_ provisions: [Consent.Provision], withdrawn: Date? = nil, expires: Date? = nil) -> Consent {
        Consent(id: UUID(), caseID: UUID(), grantor: .selfGranted, method: .written, grantedAt: now.addingTimeInterval(-3600),
                expiresAt: expires, withdrawnAt: withdrawn, statistics: false, provisions: provisions, version: 1)
    }

    @Test func aConsentCoversATransferOnlyWhenItNamesTheReceiverForEveryCategory() {
        let everything = consent([Consent.Provision(recipientOrganisation: receiving, purpose: "take over the case", categories: DataCategory.allCases)])
        #expect(CaseTransfer.consentRefusal(everything, receiving: receiving, at: now) == nil)
        #expect(CaseTransfer.missingCategories(everything, receiving: receiving, at: now).isEmpty)

        // Split across provisions for the same organisation still covers it.
        let split = consent([Consent.Provision(recipientOrganisation: receiving, purpose: "a", categories: [.identity, .contact, .profile]),
                             Consent.Provision(recipientOrganisation: receiving, purpose: "b", categories: [.needs, .services, .notes])])
        #expect(CaseTransfer.consentRefusal(split, receiving: receiving, at: now) == nil)

        let partial = consent([Consent.Provision(recipientOrganisation: receiving, purpose: "refer", categories: [.profile, .needs])])
        #expect(CaseTransfer.missingCategories(partial, receiving: receiving, at: now) == [.contact, .identity, .services, .notes])
        #expect(CaseTransfer.consentRefusal(partial, receiving: receiving, at: now)?.contains("missing contact, identity, services, notes") == true)

        let elsewhere = consent([Consent.Provision(recipientOrganisation: other, purpose: "x", categories: DataCategory.allCases)])
        #expect(CaseTransfer.consentRefusal(elsewhere, receiving: receiving, at: now) == "does not name the receiving organisation")
    }

    @Test func aLapsedConsentCoversNoTransfer() {
        let provisions = [Consent.Provision(recipientOrganisation: receiving, purpose: "take over", categories: DataCategory.allCases)]
        #expect(CaseTransfer.consentRefusal(consent(provisions, withdrawn: now), receiving: receiving, at: now) == "is withdrawn")
        #expect(CaseTransfer.consentRefusal(consent(provisions, expires: now.addingTimeInterval(-1)), receiving: receiving, at: now) == "has expired")
        var narrowed = consent(provisions)
        narrowed.withdrawnRecipients = [Consent.RecipientWithdrawal(recipientOrganisation: receiving, withdrawnAt: now)]
        #expect(CaseTransfer.consentRefusal(narrowed, receiving: receiving, at: now) == "does not name the receiving organisation")
        var amended = consent(provisions)
        amended.supersededBy = UUID()
        #expect(CaseTransfer.consentRefusal(amended, receiving: receiving, at: now) == "has been amended: choose its latest version")
    }

    @Test func onlyARequestedTransferMovesAndOnlyOnce() {
        for target in CaseTransferStatus.allCases {
            #expect(CaseTransferStatus.requested.allows(target) == (target != .requested))
            for ended in [CaseTransferStatus.accepted, .declined, .cancelled] { #expect(!ended.allows(target)) }
        }
        #expect(AuditSubtype.transfer(.accepted).rawValue == "case.transferred")
        #expect(Set(CaseTransferStatus.allCases.map { AuditSubtype.transfer($0) }).count == CaseTransferStatus.allCases.count)
    }

    @Test func afterATransferTheNewOwnerFollowsUpTheReferralsTheOldOneSent() {
        let old = UUID(), new = UUID(), recipient = UUID()
        let moved = CaseFacts(owningOrganisation: new, assignee: nil, createdBy: UUID())
        let referral = AccessTarget.referral(ReferralFacts(fromOrganisation: old, toOrganisation: recipient, caseFacts: moved))
        let newSupervisor = Actor(userID: UUID(), organisationID: new, role: .supervisor)
        let oldSupervisor = Actor(userID: UUID(), organisationID: old, role: .supervisor)
        let oldCaseworker = Actor(userID: moved.createdBy ?? UUID(), organisationID: old, role: .caseworker)
        #expect(AccessPolicy.decide(newSupervisor, .transitionReferralAsSender, referral) == .allow(.referral))
        #expect(AccessPolicy.decide(oldSupervisor, .readReferral, referral) == .notFound)
        #expect(AccessPolicy.decide(oldCaseworker, .readReferral, referral) == .notFound)
        #expect(AccessPolicy.decide(oldCaseworker, .readCase, .caseRecord(moved)) == .notFound)
        #expect(AccessPolicy.decide(Actor(userID: UUID(), organisationID: recipient, role: .partner), .readReferral, referral) == .allow(.referral))
    }

    @Test func theSendersSupervisorsKeepTheTransferNotTheCase() {
        let old = UUID(), new = UUID(), requester = UUID()
        let moved = CaseFacts(owningOrganisation: new, assignee: nil, createdBy: requester)
        let transfer = AccessTarget.transfer(TransferFacts(fromOrganisation: old, toOrganisation: new, requestedBy: requester, caseFacts: moved))
        #expect(AccessPolicy.decide(Actor(userID: UUID(), organisationID: old, role: .supervisor), .readCaseTransfer, transfer) == .allow(.caseManagement))
        #expect(AccessPolicy.decide(Actor(userID: requester, organisationID: old, role: .caseworker), .readCaseTransfer, transfer)
                == .allow(.caseManagement))
        #expect(AccessPolicy.decide(Actor(userID: UUID(), organisationID: old, role: .caseworker), .readCaseTransfer, transfer) == .notFound)
        #expect(AccessPolicy.decide(Actor(userID: UUID(), organisationID: new, role: .caseworker), .decideCaseTransfer, transfer) == .notFound)
        #expect(AccessPolicy.transferScope(Actor(userID: UUID(), organisationID: new, role: .caseworker), incoming: true) == .nothing)
        #expect(AccessPolicy.transferScope(Actor(userID: UUID(), organisationID: new, role: .supervisor), incoming: true) == .organisation(new))
        #expect(AccessPolicy.transferScope(Actor(userID: UUID(), organisationID: new, role: .partner), incoming: false) == .nothing)
    }
}
