import Foundation
import HavenCore
import Postgres
import Sealing

/// A user enrols their own authenticator, in the session their first login (or the first
/// login after an administrator's reset) opened: Haven makes a secret, shows it while it
/// waits, and keeps it only once a code from it checks out. The administrator never sees it.
extension AuthService {
    /// The secret waiting for confirmation (the same one again unless `fresh`). Refused when
    /// the user has a second factor already, or their role logs in without one.
    public func pendingEnrolment(fresh: Bool, context: AccessContext) async throws -> SecondFactorEnrolment {
        guard let actor = context.actor else { throw StoreError.forbidden("log in first") }
        guard actor.role.requiresSecondFactor else { throw StoreError.conflict("your role logs in without a second factor", field: nil) }
        return try await store.transaction(context) { transaction in
            guard let user = try UserStore.find(actor.userID, on: transaction.connection),
                  let enrolment = try SecondFactorStore.pending(actor.userID, username: user.username, fresh: fresh, keys: transaction.keys,
                                                                on: transaction.connection)
            else { throw StoreError.conflict("a second factor is enrolled already; an administrator can reset it", field: nil) }
            return enrolment
        }
    }

    /// Confirms the waiting secret with a code from the authenticator; answers the recovery
    /// codes, to show once. A wrong code counts towards the account's lockout like a wrong
    /// password, and every attempt is an audit event.
    public func confirmEnrolment(code: String, context: AccessContext) async throws -> [String] {
        guard let actor = context.actor else { throw StoreError.forbidden("log in first") }
        guard actor.role.requiresSecondFactor else { throw StoreError.conflict("your role logs in without a second factor", field: nil) }
        let settings = self.settings
        let now = Date()
        let outcome: Result<[String], StoreError> = try await store.transaction(context) { transaction in
            let connection = transaction.connection
            if try UserStore.find(actor.userID, on: connection)?.hasSecondFactor ?? true {
                return .failure(.conflict("a second factor is enrolled already; an administrator can reset it", field: nil))
            }
            var codes: [String] = []
            let check = try AuthService.secondCheck(actor: actor, settings: settings, now: now, on: transaction) {
                guard code.count <= 10, let found = try SecondFactorStore.pendingStep(actor.userID, code: code, now: now, keys: transaction.keys,
                                                                                       on: connection)
                else { return false }
                codes = try SecondFactorStore.install(actor.userID, secret: found.secret, lastStep: found.step, keys: transaction.keys, on: connection)
                return true
            }
            try transaction.audit(.update, .authSecondFactorEnrol, outcome: check == .passed ? .success : .denied, entityKind: .user,
                                  entityID: actor.userID.lowercasedString, subjectOrganisation: actor.organisationID, purpose: .authentication,
                                  detail: check == .passed ? ["recovery_codes": .int(codes.count)] : ["reason": .string(check == .locked ? "locked" : "code-wrong")])
            switch check {
            case .passed: return .success(codes)
            case .locked: return .failure(.invalid(ValidationFailure("code", "cannot be checked now: too many wrong attempts; try again later")))
            case .failed: return .failure(.invalid(ValidationFailure("code", "is not the code your authenticator shows now")))
            }
        }
        return try outcome.get()
    }
}
