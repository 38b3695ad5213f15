import Foundation
import HavenCore
import HavenStore

/// Ending a need: met, cancelled or superseded, with a reason, at the version the caller read.
extension CaseService {
    public func closeNeed(_ needID: UUID, of caseID: UUID, _ closure: NeedClosure, expectedVersion: Int?, context: AccessContext) async throws -> Need {
        try closure.validate()
        let keys = store.keys
        return try await store.transaction(context) { transaction in
            let access = try transaction.authorizeCase(caseID, .writeCaseDetails)
            try transaction.requireOpen(access.status)
            guard let actor = transaction.actor,
                  let need = try NeedStore.find(needID, caseID: caseID, keys: keys, forUpdate: true, on: transaction.connection)
            else { throw StoreError.notFound("no such need") }
            if let expectedVersion, expectedVersion != need.version { throw StoreError.preconditionFailed("the need changed since you read it") }
            let successor = try closure.supersededBy.flatMap { try NeedStore.find($0, caseID: caseID, keys: keys, on: transaction.connection) }
            switch closure.refusal(closing: need, successor: successor) {
            case .alreadyEnded(let status)?: throw StoreError.conflict("the need is already \(status)", field: nil, detail: ["status": .string(status)])
            case .invalid(let failure)?: throw StoreError.invalid(failure)
            case nil: break
            }
            guard let closed = try NeedStore.close(need, closure, actor: actor, keys: keys, on: transaction.connection) else {
                throw StoreError.preconditionFailed("the need changed since you read it")
            }
            var detail: [String: AuditDetail] = ["outcome": .string(closure.outcome.rawValue)]
            if let successor = closure.supersededBy { detail["superseded_by"] = .string(successor.lowercasedString) }
            try transaction.audit(.update, .needClose, entityKind: .need, entityID: needID.lowercasedString, caseID: caseID,
                                  subjectOrganisation: access.facts.owningOrganisation, purpose: access.purpose, detail: detail)
            return closed
        }
    }
}
