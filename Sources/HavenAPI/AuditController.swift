import Foundation
import HavenCore
import HavenServices
import HavenStore
import Hummingbird

/// `GET /v1/audit-events` for supervisors (their organisation) and auditors (everything);
/// `GET /v1/audit/verify` and `GET /v1/audit/checkpoint` for auditors.
struct AuditController: Sendable {
    let store: Store
    let checkpoints: AuditCheckpointFolder?

    var service: AuditService { AuditService(store: store, checkpoints: checkpoints) }

    struct EventDTO: Encodable, Sendable {
        struct ActorDTO: Encodable, Sendable {
            var user: UUID?
            var organisation: UUID?
            var role: String?
            var ip: String?
        }

        struct EntityDTO: Encodable, Sendable {
            var kind: String?
            var id: String?
            var caseId: UUID?
            var organisation: UUID?
        }

        var id: Int64
        var recorded: Date
        var action: String
        var type: String
        var subtype: String
        var outcome: String
        var actor: ActorDTO
        var entity: EntityDTO
        var purpose: String
        var detail: JSONText
        var requestId: String?

        init(_ record: AuditRecord) {
            id = record.id
            recorded = record.recorded
            action = record.action
            type = record.type
            subtype = record.subtype
            outcome = record.outcome
            actor = ActorDTO(user: record.actorUser, organisation: record.actorOrganisation, role: record.actorRole, ip: record.actorAddress)
            // Stored in the canonical lower case; answered like every other id of the API.
            let entityID = record.entityID.map { UUID(uuidString: $0)?.uuidString ?? $0 }
            entity = EntityDTO(kind: record.entityKind, id: entityID, caseId: record.caseID, organisation: record.subjectOrganisation)
            purpose = record.purpose
            detail = JSONText(record.detailJSON)
            requestId = record.requestID
        }
    }

    struct VerificationDTO: Encodable, Sendable {
        struct LastSealed: Encodable, Sendable {
            var seq: Int64
            var eventId: Int64
            var recorded: Date?
        }

        var ok: Bool
        var checked: Int
        var pending: Int
        var lastSealed: LastSealed?
        /// The first keyed link (links before it predate the keyed chain).
        var keyedFromSeq: Int64?
        var checkpointsChecked: Int
        var problem: AuditProblem?
    }

    /// The checkpoint as Haven keeps it, so the answer saved as a file is a checkpoint file.
    struct CheckpointDTO: Encodable, Sendable {
        var format: String
        var keyId: String
        var length: Int64
        var eventId: Int64
        var head: String
        var signedAt: String
        var signature: String

        init(_ checkpoint: AuditCheckpoint) {
            format = checkpoint.format
            keyId = checkpoint.keyID
            length = checkpoint.length
            eventId = checkpoint.eventID
            head = checkpoint.head
            signedAt = checkpoint.signedAt
            signature = checkpoint.signature
        }
    }

    func register(_ routes: Routes) {
        routes.get("/v1/audit-events") { request, context in
            let query = try ListQuery(request)
            _ = try context.requireActor()
            let filter = AuditFilter(
                caseID: try request.queryUUID("case_id"), actor: try request.queryUUID("actor"),
                organisation: try request.queryUUID("organisation"), subtype: try request.queryString("subtype"),
                outcome: try request.queryEnum("outcome", AuditEvent.Outcome.self),
                from: try request.queryDate("from"), to: try request.queryDate("to"))
            if let from = filter.from, let to = filter.to, to < from { throw APIError.badRequest("to", "must not be before from") }
            let page = try await service.events(filter, page: query.page, context: context.access)
            return JSONResponse(ListResponse(page, EventDTO.init))
        }
        routes.get("/v1/audit/verify") { _, context in
            let report = try await service.verify(context: context.access)
            let last = report.lastSealedSeq.map { VerificationDTO.LastSealed(seq: $0, eventId: report.lastSealedEventID ?? 0, recorded: report.lastSealedRecorded) }
            return JSONResponse(VerificationDTO(ok: report.ok, checked: report.checked, pending: report.pending, lastSealed: last,
                                                keyedFromSeq: report.keyedFromSeq, checkpointsChecked: report.checkpointsChecked, problem: report.problem))
        }
        routes.get("/v1/audit/checkpoint") { _, context in
            guard let checkpoint = try await service.checkpoint(context: context.access) else {
                throw APIError.notFound("nothing is sealed yet")
            }
            return JSONResponse(CheckpointDTO(checkpoint))
        }
    }
}

/// A JSON document kept as text and written into the answer as JSON, not as a string.
struct JSONText: Encodable, Sendable {
    let value: JSONValue

    init(_ text: String) {
        value = (try? JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))) ?? .null
    }

    func encode(to encoder: any Encoder) throws { try value.encode(to: encoder) }
}
