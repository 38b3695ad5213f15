import Foundation
import HavenCore
import HavenStore
import HTTPTypes
import Hummingbird

/// A person's whole record on request (subject access) and erasure of their identifying data
/// before the retention date (S17). Supervisors only; the export also needs the supervisor's
/// password or TOTP again, in the request.
struct PrivacyController: Sendable {
    let store: Store
    let auth: AuthService
    let bodyLimit: Int

    struct EraseRequest: Decodable { var reason: ErasureReason }

    struct ReferralExport: Encodable, Sendable {
        var referral: ReferralDTO
        var transitions: [ReferralController.TransitionDTO]
    }

    struct ExportDTO: Encodable, Sendable {
        var exportedAt: Date
        var `case`: CaseDTO
        var needs: [NeedDTO]
        var services: [ServiceDTO]
        var consents: [ConsentDTO]
        var referrals: [ReferralExport]
        var history: [CaseController.HistoryEntry]
    }

    func register(_ routes: Routes) {
        routes.get("/v1/cases/:id/export") { request, context in try await export(request, context) }
        routes.post("/v1/cases/:id/erase") { request, context in try await erase(request, context) }
    }

    /// `X-Reauthenticate: password <password>` or `X-Reauthenticate: totp <code>`.
    static func reauthentication(_ request: Request) throws -> (password: String?, totp: String?) {
        guard let header = request.headers[.reauthenticate] else {
            throw APIError(.unauthorized, kind: "reauthentication-required",
                           detail: "an export needs your password or TOTP again: X-Reauthenticate: totp <code> (or password <password>)",
                           errors: [FieldError("X-Reauthenticate", "is required")])
        }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, !parts[1].isEmpty else { throw APIError.badRequest("X-Reauthenticate", "must be 'password <password>' or 'totp <code>'") }
        switch parts[0].lowercased() {
        case "password": return (String(parts[1]), nil)
        case "totp": return (nil, String(parts[1]))
        default: throw APIError.badRequest("X-Reauthenticate", "must be 'password <password>' or 'totp <code>'")
        }
    }

    func export(_ request: Request, _ context: HavenRequestContext) async throws -> JSONResponse<ExportDTO> {
        let id = try request.uuidParameter("id", context)
        _ = try context.requireActor()
        // The policy first, so a caseworker or another organisation learns nothing from the
        // re-authentication step.
        _ = try await store.transaction(context.access) { try $0.authorizeCase(id, .exportCase) }
        let (password, totp) = try PrivacyController.reauthentication(request)
        guard try await auth.reauthenticate(password: password, totp: totp, context: context.access) else {
            throw APIError(.unauthorized, kind: "reauthentication-failed", detail: "the password or TOTP given again is not right")
        }
        let keys = store.keys
        let export = try await store.transaction(context.access) { transaction in
            let access = try transaction.authorizeCase(id, .exportCase)
            let connection = transaction.connection
            guard let file = try CaseStore.find(id, keys: keys, open: true, on: connection) else { throw StoreError.notFound("no such case") }
            let referrals = try ReferralStore.list(caseID: id, keys: keys, on: connection).map { referral in
                ReferralExport(
                    referral: ReferralDTO(try ReferralStore.find(referral.id, keys: keys, on: connection) ?? referral, side: .sender),
                    transitions: try ReferralStore.history(referral.id, keys: keys, on: connection).map {
                        ReferralController.TransitionDTO(from: $0.from, to: $0.to, actorUser: $0.actorUser, actorOrganisation: $0.actorOrganisation,
                                                         reason: $0.reason, businessStatus: $0.businessStatus, outcome: $0.outcome, note: $0.note, at: $0.at)
                    })
            }
            let history = try AuditQuery.caseHistory(id, after: nil, limit: 10_000, on: connection).items.map { record in
                CaseController.HistoryEntry(at: record.recorded, event: record.subtype, action: record.action, actor: record.actorUser,
                                            actorOrganisation: record.actorOrganisation, actorRole: record.actorRole, purpose: record.purpose,
                                            detail: JSONText(record.detailJSON))
            }
            let export = ExportDTO(
                exportedAt: Date(), case: CaseDTO(file),
                needs: try NeedStore.list(caseID: id, keys: keys, on: connection).map { NeedDTO($0) },
                services: try ServiceStore.list(caseID: id, keys: keys, on: connection).map { ServiceDTO($0) },
                consents: try ConsentStore.list(caseID: id, on: connection).map(ConsentDTO.init),
                referrals: referrals, history: history)
            try transaction.audit(.execute, "export", entityKind: "case", entityID: id.lowercasedString, caseID: id,
                                  subjectOrganisation: access.facts.owningOrganisation, purpose: access.purpose,
                                  detail: ["kind": "subject-access", "referrals": .int(referrals.count)])
            return export
        }
        return JSONResponse(export, headers: [.contentDisposition: "attachment; filename=\"case-export.json\""])
    }

    func erase(_ request: Request, _ context: HavenRequestContext) async throws -> JSONResponse<CaseDTO> {
        let id = try request.uuidParameter("id", context)
        var request = request
        let body = try await request.decodeJSON(EraseRequest.self, limit: bodyLimit)
        let keys = store.keys
        let file = try await store.transaction(context.access) { transaction in
            let access = try transaction.authorizeCase(id, .eraseCase)
            guard try Retention.anonymise(id, on: transaction.connection) else {
                throw StoreError.conflict("the case's identifying data is already erased", field: nil)
            }
            try transaction.audit(.update, "case.erase", entityKind: "case", entityID: id.lowercasedString, caseID: id,
                                  subjectOrganisation: access.facts.owningOrganisation, purpose: access.purpose,
                                  detail: ["reason": .string(body.reason.rawValue)])
            guard let file = try CaseStore.find(id, keys: keys, open: true, on: transaction.connection) else { throw StoreError.notFound("no such case") }
            return file
        }
        return JSONResponse(CaseDTO(file), headers: [.eTag: ETag.make(file.version)])
    }
}

extension HTTPField.Name {
    static let reauthenticate = HTTPField.Name("X-Reauthenticate")!
}
