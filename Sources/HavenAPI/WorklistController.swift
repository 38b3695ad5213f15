import Foundation
import HavenCore
import HavenServices
import HavenStore
import Hummingbird

/// `GET /v1/worklist`: the console's "action needed" page as JSON, from the same read and the
/// same single `worklist.read` event.
struct WorklistDTO: Encodable, Sendable {
    struct ConsentDue: Encodable, Sendable {
        var consent: ConsentDTO
        var caseReference: String
    }

    /// The parts the caller's role has; the others are always empty.
    var parts: [String]
    var awaitingAnswer: [ReferralDTO]
    var overdueNeeds: [NeedDTO]
    var servicesDue: [ServiceDTO]
    var closuresToApprove: [CaseSummary]
    var grantsToReview: [GrantDTO]
    var consentsExpiring: [ConsentDue]
    var openCases: [CaseSummary]
    var transfersToDecide: [CaseTransferDTO]

    struct CaseSummary: Encodable, Sendable {
        var id: UUID
        var reference: String
        var caseType: CaseType
        var riskLevel: RiskLevel
        var assignee: UUID?
        var closureRequestedAt: Date?
        var updatedAt: Date

        init(_ file: CaseFile) {
            id = file.id
            reference = file.reference
            caseType = file.caseType
            riskLevel = file.riskLevel
            assignee = file.assignee
            closureRequestedAt = file.closureRequestedAt
            updatedAt = file.updatedAt
        }
    }

    init(_ work: Worklist) {
        parts = Worklist.Part.allCases.filter(work.parts.contains).map(\.rawValue)
        awaitingAnswer = work.awaitingAnswer.map { ReferralDTO($0, side: .recipient) }
        // Notes stay out of a list: the need's own page has them.
        overdueNeeds = work.overdueNeeds.map { NeedDTO($0.need, reference: $0.reference) }
        servicesDue = work.servicesDue.map { ServiceDTO($0.service, reference: $0.reference, withNotes: false) }
        closuresToApprove = work.closuresToApprove.map(CaseSummary.init)
        grantsToReview = work.grantsToReview.map(GrantDTO.init)
        consentsExpiring = work.consentsExpiring.map { ConsentDue(consent: ConsentDTO($0.consent), caseReference: $0.reference) }
        openCases = work.openCases.map(CaseSummary.init)
        transfersToDecide = work.transfersToDecide.map { CaseTransferDTO($0, names: work.names) }
    }
}

extension CaseDetailsController {
    func worklist(_ request: Request, _ context: HavenRequestContext) async throws -> JSONResponse<WorklistDTO> {
        _ = try context.requireActor()
        let work = try await WorklistService(store: store).actionNeeded(context: context.access)
        return JSONResponse(WorklistDTO(work))
    }
}
