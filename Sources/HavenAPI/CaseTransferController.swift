import Foundation
import HavenCore
import HavenServices
import HavenStore
import Hummingbird

/// Handing a case to another organisation: the request on the case, the lists of incoming and
/// outgoing transfers, one transfer, and its answer (`CaseTransferService`).
struct CaseTransferController: Sendable {
    let store: Store
    var transfers: CaseTransferService { CaseTransferService(store: store) }

    struct TransferRequest: Decodable {
        var organisation: UUID
        var consent: UUID
        var reason: CaseTransferReason
    }

    struct DeclineRequest: Decodable { var reason: CaseTransferDeclineReason }

    enum Direction: String, ClosedSet { case incoming, outgoing }

    func register(_ routes: Routes) {
        routes.post("/v1/cases/:id/transfer") { request, context in
            let id = try request.uuidParameter("id", context)
            var request = request
            let (body, bytes) = try await request.decodeJSONWithBytes(TransferRequest.self, limit: context.maxUploadSize)
            let key = Idempotent.Request(key: request.headers[.idempotencyKey], scope: "POST /v1/cases/\(id)/transfer", body: bytes)
            let draft = CaseTransferDraft(organisation: body.organisation, consent: body.consent, reason: body.reason)
            return try await Idempotency.respond(request, key: key) {
                try await transfers.request(id, draft, request: key, context: context.access) { transfer in
                    try CreatedResponse(CaseTransferDTO(transfer), location: "/v1/transfers/\(transfer.id.uuidString.lowercased())", caseID: id).answer
                }
            }
        }
        routes.get("/v1/transfers") { request, context in
            let query = try ListQuery(request)
            _ = try context.requireActor()
            let direction = try request.queryEnum("direction", Direction.self) ?? .incoming
            let status = try request.queryEnum("status", CaseTransferStatus.self)
            let found = try await transfers.list(incoming: direction == .incoming, status: status, page: query.page, context: context.access)
            return JSONResponse(ListResponse(found.page) { CaseTransferDTO($0, names: found.names) })
        }
        routes.get("/v1/transfers/:id") { request, context in
            let id = try request.uuidParameter("id", context)
            let seen = try await transfers.read(id, context: context.access)
            return JSONResponse(CaseTransferDTO(seen.transfer, names: seen.names))
        }
        routes.post("/v1/transfers/:id/accept") { request, context in
            let id = try request.uuidParameter("id", context)
            return JSONResponse(CaseTransferDTO(try await transfers.accept(id, context: context.access)))
        }
        routes.post("/v1/transfers/:id/decline") { request, context in
            let id = try request.uuidParameter("id", context)
            var request = request
            let body = try await request.decodeJSON(DeclineRequest.self, limit: context.maxUploadSize)
            return JSONResponse(CaseTransferDTO(try await transfers.decline(id, reason: body.reason, context: context.access)))
        }
        routes.post("/v1/transfers/:id/cancel") { request, context in
            let id = try request.uuidParameter("id", context)
            return JSONResponse(CaseTransferDTO(try await transfers.cancel(id, context: context.access)))
        }
    }
}

/// A case transfer: the case by id and reference (no content), both organisations, the state.
struct CaseTransferDTO: Encodable, Sendable {
    var id: UUID
    var caseId: UUID
    var caseReference: String
    var fromOrganisation: UUID
    var fromOrganisationName: String?
    var toOrganisation: UUID
    var toOrganisationName: String?
    var consentId: UUID
    var reason: CaseTransferReason
    var status: CaseTransferStatus
    var declineReason: CaseTransferDeclineReason?
    var requestedBy: UUID
    var requestedByName: String?
    var requestedAt: Date
    var decidedBy: UUID?
    var decidedAt: Date?

    init(_ transfer: CaseTransfer, names: DirectoryService.Names = DirectoryService.Names()) {
        id = transfer.id
        caseId = transfer.caseID
        caseReference = transfer.caseReference
        fromOrganisation = transfer.fromOrganisation
        fromOrganisationName = names.organisations[transfer.fromOrganisation]
        toOrganisation = transfer.toOrganisation
        toOrganisationName = names.organisations[transfer.toOrganisation]
        consentId = transfer.consentID
        reason = transfer.reason
        status = transfer.status
        declineReason = transfer.declineReason
        requestedBy = transfer.requestedBy
        requestedByName = names.user(transfer.requestedBy)
        requestedAt = transfer.requestedAt
        decidedBy = transfer.decidedBy
        decidedAt = transfer.decidedAt
    }
}
