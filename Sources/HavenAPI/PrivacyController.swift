import Foundation
import HavenCore
import HavenServices
import HavenStore
import HTTPTypes
import Hummingbird

/// A person's whole record on request (subject access) and erasure of their identifying data
/// before the retention date (S17). Supervisors only; the export and the erasure also need the
/// supervisor's password or TOTP again, in the request.
struct PrivacyController: Sendable {
    let store: Store
    let auth: AuthService

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
            throw APIError(.unauthorized, kind: .reauthenticationRequired,
                           detail: "this needs your password or TOTP again: X-Reauthenticate: totp <code> (or password <password>)",
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
        let found: PrivacyService.Export
        do {
            found = try await PrivacyService(store: store, auth: auth).export(id, context: context.access) { try PrivacyController.reauthentication(request) }
        } catch is PrivacyService.ReauthenticationFailed {
            throw APIError(.unauthorized, kind: .reauthenticationFailed, detail: "the password or TOTP given again is not right")
        }
        let export = ExportDTO(
            exportedAt: Date(), case: CaseDTO(found.file), needs: found.needs.map { NeedDTO($0) }, services: found.services.map { ServiceDTO($0) },
            consents: found.consents.map(ConsentDTO.init),
            referrals: found.referrals.map { item in
                ReferralExport(referral: ReferralDTO(item.referral, side: .sender), transitions: item.transitions.map {
                    ReferralController.TransitionDTO(from: $0.from, to: $0.to, actorUser: $0.actorUser, actorOrganisation: $0.actorOrganisation,
                                                     reason: $0.reason, businessStatus: $0.businessStatus, outcome: $0.outcome, note: $0.note, at: $0.at)
                })
            },
            history: found.history.map { record in
                CaseController.HistoryEntry(at: record.recorded, event: record.subtype, action: record.action, actor: record.actorUser,
                                            actorOrganisation: record.actorOrganisation, actorRole: record.actorRole, purpose: record.purpose,
                                            detail: JSONText(record.detailJSON))
            })
        return JSONResponse(export, headers: [.contentDisposition: "attachment; filename=\"case-export.json\""])
    }

    func erase(_ request: Request, _ context: HavenRequestContext) async throws -> JSONResponse<CaseDTO> {
        let id = try request.uuidParameter("id", context)
        var request = request
        let body = try await request.decodeJSON(EraseRequest.self, limit: context.maxUploadSize)
        let file: CaseFile
        do {
            file = try await PrivacyService(store: store, auth: auth).erase(id, reason: body.reason, context: context.access) {
                try PrivacyController.reauthentication(request)
            }
        } catch is PrivacyService.ReauthenticationFailed {
            throw APIError(.unauthorized, kind: .reauthenticationFailed, detail: "the password or TOTP given again is not right")
        }
        return JSONResponse(CaseDTO(file), headers: [.eTag: ETag.make(file.version)])
    }
}

extension HTTPField.Name {
    static let reauthenticate = HTTPField.Name("X-Reauthenticate")!
}
