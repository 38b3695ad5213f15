import Foundation
import HavenCore
import Testing

/// What a referral's recipient sees of a case (S15), for every combination of consented
/// categories: each part is there exactly when its category is.
@Suite struct SharedPartTests {
    static let day = CalendarDate(year: 2026, month: 3, day: 1) ?? CalendarDate.of(Date())

    static func everything() -> (CaseFile, [Need], [ServiceEpisode]) {
        var file = CaseClosingTests.file()
        file.identity = PersonIdentity(givenName: "Synthetic", familyName: "Person", contact: .init(phone: "+000 0000"), address: "Test street 1")
        file.trafficking = TraffickingProfile(exploitationTypes: [.forcedLabour])
        file.note = "case note"
        let need = Need(id: UUID(), caseID: file.id, domain: .personal, serviceType: .counselling, priority: .urgent, dueAt: Date(),
                        status: "open", note: "need note", createdBy: UUID(), createdAt: Date())
        let session = ServiceDetail.CounsellingSession(date: day, counsellor: "Counsellor A", minutes: 50, modality: .individual, note: "session note")
        let episode = ServiceEpisode(id: UUID(), caseID: file.id, needID: need.id, referralID: nil, type: .counselling, providerOrganisation: nil,
                                     status: .inProgress, startOn: day, dueOn: nil, endOn: nil, outcome: nil,
                                     detail: ServiceDetail(counselling: [session]), createdAt: Date(), updatedAt: Date(), version: 1)
        return (file, [need], [episode])
    }

    static let combinations: [Set<DataCategory>] = (0..<(1 << DataCategory.allCases.count)).map { mask in
        Set(DataCategory.allCases.enumerated().filter { mask & (1 << $0.offset) != 0 }.map(\.element))
    }

    @Test(arguments: combinations)
    func eachPartIsReleasedByItsCategoryOnly(categories: Set<DataCategory>) {
        let (file, needs, services) = Self.everything()
        let part = SharedPart(file, needs: needs, services: services, categories: categories)
        let has = { (category: DataCategory) in categories.contains(category) }
        #expect(part.reference == file.reference)
        #expect((part.identity?.givenName != nil) == has(.identity) && (part.identity?.familyName != nil) == has(.identity))
        #expect((part.identity?.contact?.phone != nil) == has(.contact) && (part.identity?.address != nil) == has(.contact))
        #expect((part.profile != nil) == has(.profile) && (part.caseType != nil) == has(.profile) && (part.trafficking != nil) == has(.profile))
        #expect((part.needs != nil) == has(.needs) && (part.services != nil) == has(.services))
        #expect((part.needs?.first?.note != nil) == (has(.needs) && has(.notes)))
        #expect((part.services?.first?.detail.counselling?.first?.note != nil) == (has(.services) && has(.notes)))
        #expect((part.note != nil) == has(.notes))

        // What is read for it: sealed values are opened only when a category releases one.
        let reading = SharedPart.reading(categories)
        #expect(reading.opensCase == (has(.identity) || has(.contact) || has(.notes)))
        #expect(reading.needs == has(.needs) && reading.services == has(.services))
        #expect(reading.opensNeedNotes == (has(.needs) && has(.notes)))
        #expect(reading.opensServiceNotes == (has(.services) && has(.notes)))
    }
}
