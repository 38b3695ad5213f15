import Foundation
import HavenCore
import Testing

/// The consent rules behind amendment and withdrawal for one recipient, without a database.
@Suite struct ConsentVersionRuleTests {
    let shelter = UUID()
    let clinic = UUID()
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    func consent(_ provisions: [(UUID, [DataCategory])]) -> Consent {
        Consent(id: UUID(), caseID: UUID(), grantor: .selfGranted, method: .written, grantedAt: now.addingTimeInterval(-86_400), expiresAt: nil,
                withdrawnAt: nil, statistics: false,
                provisions: provisions.map { Consent.Provision(recipientOrganisation: $0.0, purpose: "synthetic", categories: $0.1) }, version: 1)
    }

    @Test func aReferralMovesToTheNewVersionOnlyWhenItStillCoversAllItShares() {
        let amended = consent([(shelter, [.profile, .needs, .contact]), (clinic, [.profile])])
        #expect(Consent.carried(recipient: shelter, shared: [.profile, .needs], to: amended, at: now) == .moved)
        #expect(Consent.carried(recipient: clinic, shared: [.profile, .needs], to: amended, at: now) == .cancelled)
        #expect(Consent.carried(recipient: UUID(), shared: [.profile], to: amended, at: now) == .cancelled)
    }

    @Test func aSupersededVersionReleasesNothingAndIsNotAmendedAgain() {
        var old = consent([(shelter, [.profile])])
        #expect(Consent.amendable(old, at: now) == nil)
        old.supersededBy = UUID()
        old.supersededAt = now
        #expect(old.status(at: now) == .superseded)
        #expect(old.categories(for: shelter, at: now).isEmpty)
        #expect(Consent.amendable(old, at: now) != nil)
        var withdrawn = consent([(shelter, [.profile])])
        withdrawn.withdrawnAt = now
        #expect(Consent.amendable(withdrawn, at: now) != nil)
    }

    @Test func withdrawalForOneRecipientLeavesTheOthersCovered() {
        var running = consent([(shelter, [.profile]), (clinic, [.profile, .needs])])
        #expect(running.recipientWithdrawalRefusal(clinic, at: now) == nil)
        #expect(running.recipientWithdrawalRefusal(UUID(), at: now)?.conflict == false, "not a recipient: the field is wrong")
        running.withdrawnRecipients = [Consent.RecipientWithdrawal(recipientOrganisation: clinic, withdrawnAt: now)]
        #expect(running.status(at: now) == .active)
        #expect(running.categories(for: clinic, at: now).isEmpty)
        #expect(running.categories(for: shelter, at: now) == [.profile])
        #expect(running.missingCategories([.profile], for: clinic, at: now) == [.profile])
        #expect(running.recipientWithdrawalRefusal(clinic, at: now)?.conflict == true, "already withdrawn for it")
    }
}
