import Foundation
import HavenCore

/// Thrown inside a transaction when the policy says no. `Store.transaction` rolls the work
/// back, records the denial in its own transaction (S8: every denied access is an audit
/// event), and answers 404 or 403 as the policy decided.
struct AccessDenied: Error {
    var decision: AccessDecision
    var operation: AccessOperation
    var entityKind: EntityKind?
    var entityID: String?
    var caseID: UUID?
    var subjectOrganisation: UUID?
}

extension StoreTransaction {
    /// Asks the access policy; returns the purpose to audit the access with, or throws.
    @discardableResult
    public func authorize(
        _ operation: AccessOperation, _ target: AccessTarget, entityKind: EntityKind? = nil, entityID: String? = nil,
        caseID: UUID? = nil, subjectOrganisation: UUID? = nil
    ) throws -> Purpose {
        guard let actor else {
            throw AccessDenied(decision: .notFound, operation: operation, entityKind: entityKind, entityID: entityID, caseID: caseID, subjectOrganisation: subjectOrganisation)
        }
        let decision = AccessPolicy.decide(actor, operation, target)
        if case .allow(let purpose) = decision { return purpose }
        throw AccessDenied(decision: decision, operation: operation, entityKind: entityKind, entityID: entityID, caseID: caseID, subjectOrganisation: subjectOrganisation)
    }
}

extension Store {
    func recordDenial(_ denial: AccessDenied, context: AccessContext) async throws -> StoreError {
        try await transaction(context) { transaction in
            try transaction.audit(
                .execute, .accessDenied, outcome: .denied, entityKind: denial.entityKind, entityID: denial.entityID,
                caseID: denial.caseID, subjectOrganisation: denial.subjectOrganisation,
                purpose: .caseManagement,
                detail: ["operation": .string(denial.operation.rawValue), "answer": denial.decision == .notFound ? "404" : "403"])
        }
        return denial.decision == .notFound
            ? StoreError.notFound("no such \(denial.entityKind?.rawValue ?? "resource")")
            : StoreError.forbidden("your role does not allow \(denial.operation.rawValue) here")
    }
}
