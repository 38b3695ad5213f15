import Foundation
import HavenCore
import HavenStore

/// A person's whole record on request (subject access) and erasure of their identifying data
/// before the retention date (S17). Supervisors only; the export also needs the supervisor's
/// password or code again.
public struct PrivacyService: Sendable {
    let store: Store
    let auth: AuthService

    public init(store: Store, auth: AuthService) {
        self.store = store
        self.auth = auth
    }

    /// Everything recorded about a case, read in one transaction.
    public struct Export: Sendable {
        public var file: CaseFile
        public var needs: [Need]
        public var services: [ServiceEpisode]
        public var consents: [Consent]
        public var referrals: [(referral: Referral, transitions: [ReferralTransition])]
        public var history: [AuditRecord]
    }

    /// The password or code given again did not check out.
    public struct ReauthenticationFailed: Error, Sendable {}

    /// Asks the policy before anything else, so a caseworker or another organisation learns
    /// nothing from the re-authentication step; `credentials` is read only then.
    public func export(_ id: UUID, context: AccessContext, credentials: () throws -> (password: String?, totp: String?)) async throws -> Export {
        _ = try await store.transaction(context) { try $0.authorizeCase(id, .exportCase) }
        let (password, totp) = try credentials()
        guard try await auth.reauthenticate(password: password, totp: totp, context: context) else { throw ReauthenticationFailed() }
        let keys = store.keys
        return try await store.transaction(context) { transaction in
            let access = try transaction.authorizeCase(id, .exportCase)
            let connection = transaction.connection
            guard let file = try CaseStore.find(id, keys: keys, open: true, on: connection) else { throw StoreError.notFound("no such case") }
            let referrals = try ReferralStore.list(caseID: id, keys: keys, on: connection).map { referral in
                (referral: try ReferralStore.find(referral.id, keys: keys, on: connection) ?? referral,
                 transitions: try ReferralStore.history(referral.id, keys: keys, on: connection))
            }
            let export = Export(
                file: file, needs: try NeedStore.list(caseID: id, keys: keys, on: connection),
                services: try ServiceStore.list(caseID: id, keys: keys, on: connection), consents: try ConsentStore.list(caseID: id, keys: keys, on: connection),
                referrals: referrals, history: try AuditQuery.caseHistory(id, after: nil, limit: 10_000, on: connection).items)
            try transaction.audit(.execute, .export, entityKind: .caseFile, entityID: id.lowercasedString, caseID: id,
                                  subjectOrganisation: access.facts.owningOrganisation, purpose: access.purpose,
                                  detail: ["kind": "subject-access", "referrals": .int(referrals.count)])
            return export
        }
    }

    /// Erasure cannot be undone, so like the export it needs the password or code again, asked
    /// for only once the policy allows the caller to erase the case.
    public func erase(_ id: UUID, reason: ErasureReason, context: AccessContext,
                      credentials: () throws -> (password: String?, totp: String?)) async throws -> CaseFile {
        _ = try await store.transaction(context) { try $0.authorizeCase(id, .eraseCase) }
        let (password, totp) = try credentials()
        guard try await auth.reauthenticate(password: password, totp: totp, context: context) else { throw ReauthenticationFailed() }
        let keys = store.keys
        return try await store.transaction(context) { transaction in
            let access = try transaction.authorizeCase(id, .eraseCase)
            guard try Retention.anonymise(id, on: transaction.connection) else {
                throw StoreError.conflict("the case's identifying data is already erased", field: nil)
            }
            try transaction.audit(.update, .caseErase, entityKind: .caseFile, entityID: id.lowercasedString, caseID: id,
                                  subjectOrganisation: access.facts.owningOrganisation, purpose: access.purpose, detail: ["reason": .string(reason.rawValue)])
            guard let file = try CaseStore.find(id, keys: keys, open: true, on: transaction.connection) else { throw StoreError.notFound("no such case") }
            return file
        }
    }
}
