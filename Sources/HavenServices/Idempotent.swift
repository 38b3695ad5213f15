import Foundation
import HavenCore
import HavenStore

/// Creating something once, however often the request is sent: with a key, a retry with the
/// same key and the same request gets the first answer and creates nothing; the same key for a
/// different request is refused. The API keeps its JSON answers this way; the console keeps
/// where the new record lives.
public enum Idempotent {
    public struct Request: Sendable {
        public var key: String?
        /// What is being created (`POST /v1/cases/…/referrals`), so a key cannot be reused across kinds.
        public var scope: String
        public var fingerprint: [UInt8]

        public init(key: String?, scope: String, body: [UInt8]) {
            self.key = key
            self.scope = scope
            self.fingerprint = IdempotencyStore.requestHash(scope: scope, body: body)
        }
    }

    /// What the creating work answers, kept whole for a retry.
    public struct Answer: Sendable {
        public var status: Int
        public var body: [UInt8]
        public var location: String?
        /// The case the answer is about: erasing the case forgets the kept answer.
        public var caseID: UUID?
        /// The new record's version; a replay does not repeat it (the record may have changed since).
        public var version: Int?

        public init(status: Int = 201, body: [UInt8], location: String?, caseID: UUID?, version: Int? = nil) {
            (self.status, self.body, self.location, self.caseID, self.version) = (status, body, location, caseID, version)
        }
    }

    public enum Outcome: Sendable {
        case created(Answer)
        case replay(IdempotencyStore.StoredResponse)
    }

    /// The key's first request was about a case whose identifying data has since been erased.
    public struct Erased: Error, Sendable {}

    /// Runs `work` in one transaction, under the key when there is one.
    ///
    /// A retry is a read of the first answer, so the policy is asked again: an answer about a
    /// case needs `readCase` on it now (the caller may have lost the case since), any other
    /// needs `collection` on the collection (the caller's role may have changed). A record that
    /// the caller reaches through something other than the case (a recipient's episode on a
    /// referral) names its own check as `replay`, which asks the policy and audits the read.
    public static func run(
        _ request: Request, store: Store, context: AccessContext, collection: AccessOperation? = nil,
        replay check: (@Sendable (StoreTransaction) throws -> Void)? = nil,
        _ work: @escaping @Sendable (StoreTransaction) throws -> Answer
    ) async throws -> Outcome {
        if let key = request.key { try IdempotencyStore.validate(key) }
        let keys = store.keys
        return try await store.transaction(context) { transaction in
            if let key = request.key, let actor = transaction.actor {
                switch try IdempotencyStore.claim(user: actor.userID, key: key, scope: request.scope, requestHash: request.fingerprint, keys: keys,
                                                  on: transaction.connection) {
                case .mismatch:
                    throw StoreError.invalid(ValidationFailure("Idempotency-Key", "was already used for a different request"))
                case .erased:
                    throw Erased()
                case .replay(let stored):
                    if let check {
                        try check(transaction)
                    } else if let caseID = stored.caseID {
                        let access = try transaction.authorizeCase(caseID, .readCase)
                        try transaction.audit(.read, .idempotencyReplay, entityKind: .caseFile, entityID: caseID.lowercasedString, caseID: caseID,
                                              subjectOrganisation: access.facts.owningOrganisation, purpose: access.purpose,
                                              detail: ["scope": .string(request.scope)])
                    } else if let collection {
                        let purpose = try transaction.authorize(collection, .collection)
                        try transaction.audit(.read, .idempotencyReplay, purpose: purpose, detail: ["scope": .string(request.scope)])
                    } else {
                        // An answer about neither a case nor a named collection: nothing to ask, so no replay.
                        throw StoreError.notFound("no such request")
                    }
                    return .replay(stored)
                case .new:
                    break
                }
            }
            let answer = try work(transaction)
            if let key = request.key, let actor = transaction.actor {
                try IdempotencyStore.record(user: actor.userID, key: key, status: answer.status, body: answer.body, location: answer.location,
                                            caseID: answer.caseID, keys: keys, on: transaction.connection)
            }
            return .created(answer)
        }
    }
}
