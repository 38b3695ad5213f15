import Foundation
import HavenCore
import Testing

/// A need's deadline by priority, when it is overdue, and what ending it must carry, as plain functions.
@Suite struct NeedOutcomeTests {
    static let recorded = (try? Date("2026-03-02T08:00:00Z", strategy: .iso8601)) ?? Date(timeIntervalSince1970: 0)

    static func need(_ priority: NeedPriority = .urgent, status: NeedStatus = .open, caseID: UUID = UUID()) -> Need {
        Need(id: UUID(), caseID: caseID, domain: .health, serviceType: .medical, priority: priority, dueAt: priority.deadline(from: recorded),
             status: status.rawValue, note: nil, createdBy: UUID(), createdAt: recorded)
    }

    @Test(arguments: [(NeedPriority.emergency, 24.0), (.urgent, 72.0), (.normal, 14.0 * 24)])
    func aPrioritysDeadlineIsItsResponseTimeAfterTheNeedWasRecorded(priority: NeedPriority, hours: Double) {
        #expect(priority.deadline(from: Self.recorded) == Self.recorded.addingTimeInterval(hours * 3600))
    }

    @Test func aNeedIsOverdueOnlyWhileOpenAndPastItsDeadline() {
        let need = Self.need(.emergency)
        #expect(!need.isOverdue(at: Self.recorded.addingTimeInterval(23 * 3600)))
        #expect(!need.isOverdue(at: need.dueAt), "due at the deadline itself, overdue after it")
        #expect(need.isOverdue(at: need.dueAt.addingTimeInterval(1)))
        for status in [NeedStatus.met, .cancelled, .superseded] {
            #expect(!Self.need(.emergency, status: status).isOverdue(at: need.dueAt.addingTimeInterval(86_400)), "\(status) is never overdue")
        }
        // A normal need recorded at the same time is not yet late when an emergency one is.
        #expect(!Self.need(.normal).isOverdue(at: Self.recorded.addingTimeInterval(13 * 86_400)))
    }

    @Test func endingANeedNeedsAReasonAndASuccessorOnlyWhenSuperseded() {
        func fields(_ closure: NeedClosure) -> [String] {
            do { try closure.validate(); return [] } catch let failure as ValidationFailure { return failure.errors.map(\.field) } catch { return ["?"] }
        }
        #expect(fields(NeedClosure(outcome: .met, reason: "placed in the shelter")) == [])
        #expect(fields(NeedClosure(outcome: .met, reason: nil)) == ["reason"])
        #expect(fields(NeedClosure(outcome: .cancelled, reason: " \n ")) == ["reason"])
        #expect(fields(NeedClosure(outcome: .cancelled, reason: String(repeating: "x", count: 2_001))) == ["reason"])
        #expect(fields(NeedClosure(outcome: .superseded, reason: nil)) == ["reason", "superseded_by"])
        #expect(fields(NeedClosure(outcome: .cancelled, reason: "x", supersededBy: UUID())) == ["superseded_by"])
    }

    @Test func anEndedNeedStaysEndedAndIsReplacedOnlyByAnotherOpenNeedOfItsCase() {
        let open = Self.need()
        let sibling = Self.need(caseID: open.caseID)
        let closure = NeedClosure(outcome: .superseded, reason: "reassessed", supersededBy: sibling.id)
        #expect(closure.refusal(closing: open, successor: sibling) == nil)
        #expect(NeedClosure(outcome: .met, reason: "done").refusal(closing: Self.need(status: .cancelled), successor: nil) == .alreadyEnded(status: "cancelled"))
        #expect(NeedClosure(outcome: .superseded, reason: "r", supersededBy: open.id).refusal(closing: open, successor: open) != nil, "not by itself")
        #expect(closure.refusal(closing: open, successor: nil) != nil, "not by a need the case does not have")
        #expect(closure.refusal(closing: open, successor: Self.need()) != nil, "not by another case's need")
        #expect(closure.refusal(closing: open, successor: Self.need(status: .met, caseID: open.caseID)) != nil, "not by an ended need")
    }
}

extension NeedOutcomeTests {
    @Test func aReferralsRecipientReadsWhyANeedEndedOnlyWhenNotesAreShared() {
        var ended = Self.need(status: .cancelled)
        ended.note = "Synthetic note"
        ended.reason = "Synthetic reason"
        let file = CaseClosingTests.file()
        let withoutNotes = SharedPart(file, needs: [ended], services: nil, categories: [.profile, .needs])
        #expect(withoutNotes.needs?.first?.reason == nil)
        #expect(withoutNotes.needs?.first?.status == "cancelled", "the outcome itself is part of the need")
        let withNotes = SharedPart(file, needs: [ended], services: nil, categories: [.profile, .needs, .notes])
        #expect(withNotes.needs?.first?.reason == "Synthetic reason")
    }
}
