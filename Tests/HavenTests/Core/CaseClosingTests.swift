import Foundation
import HavenCore
import Testing

/// Closing a case and checking a changed case, as plain functions.
@Suite struct CaseClosingTests {
    static func file(_ type: CaseType = .trafficking, birthYear: Int? = 1990) -> CaseFile {
        let day = CalendarDate(year: 2026, month: 3, day: 1) ?? CalendarDate.of(Date())
        return CaseFile(
            id: UUID(), organisationID: UUID(), reference: "MD-2026-000001", caseType: type, identificationStatus: .presumed,
            identifiedBy: .ngo, identifiedOn: day, riskLevel: .medium, status: .open, assignee: nil, createdBy: UUID(),
            closureRequestedAt: nil, closureRequestedBy: nil, closureReason: nil, closedAt: nil, closedBy: nil, reopenedCount: 0,
            retentionDue: nil, anonymisedAt: nil, profile: PersonProfile(birthYear: birthYear).completed(today: day), identity: nil,
            trafficking: nil, violence: nil, note: nil, createdAt: Date(), updatedAt: Date(), version: 1)
    }

    static func at(_ text: String) -> Date {
        (try? Date(text, strategy: .iso8601)) ?? Date()
    }

    @Test func closingSetsWhoWhyWhenAndTheRetentionDate() {
        var file = Self.file()
        let supervisor = UUID()
        file.close(reason: "services-completed", by: supervisor, at: Self.at("2026-06-15T10:00:00Z"), retentionYears: 5)
        #expect(file.status == .closed && file.closedBy == supervisor && file.closureReason == "services-completed")
        #expect(file.retentionDue == CalendarDate(year: 2031, month: 6, day: 15))
    }

    @Test func aCaseClosedOnTheTwentyNinthOfFebruaryIsDueOnTheTwentyEighth() {
        var file = Self.file()
        file.close(reason: "transferred", by: UUID(), at: Self.at("2028-02-29T12:00:00Z"), retentionYears: 3)
        #expect(file.retentionDue == CalendarDate(year: 2031, month: 2, day: 28))
    }

    @Test func aChangedCaseMustHoldTogether() {
        let today = CalendarDate(year: 2026, month: 12, day: 1) ?? CalendarDate.of(Date())
        #expect(Self.file().inconsistency(today: today) == nil)
        var violence = Self.file(.trafficking)
        violence.violence = ViolenceProfile(types: [.physicalAssault])
        #expect(violence.inconsistency(today: today)?.errors.map(\.field) == ["violence"])
        var trafficking = Self.file(.domesticViolence)
        trafficking.trafficking = TraffickingProfile(monthsExploited: 3)
        #expect(trafficking.inconsistency(today: today)?.errors.map(\.field) == ["trafficking"])
        var minor = Self.file(birthYear: 1990)
        minor.profile.minor = true
        #expect(minor.inconsistency(today: today)?.errors.map(\.field) == ["person.minor"])
    }

    @Test func aSupervisorClosesAnyoneElseAsks() {
        for role in Role.allCases {
            let actor = Actor(userID: UUID(), organisationID: UUID(), role: role)
            #expect(AccessPolicy.closure(actor) == (role == .supervisor ? .closeCase : .requestCaseClosure), "\(role)")
        }
    }
}
