import Foundation
import HavenCore
import HavenStore
import HTTPTypes
import Hummingbird
import NIOCore

/// What a creating handler produces inside its transaction: kept whole so a retry with the
/// same `Idempotency-Key` gets exactly the first answer.
struct CreatedResponse: Sendable {
    var status: HTTPResponse.Status
    var body: [UInt8]
    var location: String?
    /// The case the answer is about: erasing the case forgets the kept answer.
    var caseID: UUID?
    /// The new record's version, sent as its ETag so the creator can update it without reading
    /// it first. A replay does not repeat it: the record may have changed since.
    var version: Int?

    init<T: Encodable>(_ value: T, status: HTTPResponse.Status = .created, location: String? = nil, caseID: UUID? = nil, version: Int? = nil) throws {
        self.status = status
        self.body = try JSONCoding.encoder.encode(value)
        self.location = location
        self.caseID = caseID
        self.version = version
    }
}

extension Request {
    /// The JSON body decoded, with its raw bytes (for the idempotency fingerprint): 415 unless
    /// `Content-Type: application/json`, 413 past the limit, 400 for broken JSON, 422 naming the
    /// field for a missing, mistyped or unknown value.
    mutating func decodeJSONWithBytes<T: Decodable>(_ type: T.Type, limit: Int) async throws -> (T, [UInt8]) {
        guard RequestGuard.isJSON(headers[.contentType]) else {
            throw APIError(.unsupportedMediaType, kind: "unsupported-media-type", detail: "send the body as application/json",
                           errors: [FieldError("Content-Type", "must be application/json")])
        }
        let buffer: ByteBuffer
        do {
            buffer = try await collectBody(upTo: limit)
        } catch {
            throw APIError(.contentTooLarge, kind: "body-too-large", detail: "the request body is larger than \(limit) bytes")
        }
        let bytes = [UInt8](buffer.readableBytesView)
        if bytes.isEmpty { throw APIError.badRequest("body", "is empty; send a JSON object") }
        do {
            return (try JSONCoding.decoder.decode(T.self, from: Data(bytes)), bytes)
        } catch let error as DecodingError {
            throw APIError.decoding(error, body: bytes)
        }
    }
}

enum Idempotency {
    /// Runs a creating request in one transaction. With an `Idempotency-Key`, a retry with the
    /// same key and body returns the first answer and creates nothing; the same key with a
    /// different body is 422.
    ///
    /// A retry is a read of the first answer, so the policy is asked again: an answer about a
    /// case needs `readCase` on it now (the caller may have lost the case since), any other
    /// needs `collection` on the collection (the caller's role may have changed).
    static func create(
        _ request: Request, context: HavenRequestContext, scope: String, body: [UInt8], store: Store,
        collection: AccessOperation? = nil,
        _ work: @escaping @Sendable (StoreTransaction) throws -> CreatedResponse
    ) async throws -> Response {
        let key = request.headers[.idempotencyKey]
        if let key {
            do { try IdempotencyStore.validate(key) } catch let error as StoreError {
                if case .invalid(let failure) = error { throw APIError(.badRequest, kind: "bad-request", detail: "Idempotency-Key is malformed", errors: failure.errors) }
                throw error
            }
        }
        let keys = store.keys
        let hash = IdempotencyStore.requestHash(scope: scope, body: body)
        enum Outcome: Sendable {
            case created(CreatedResponse)
            case replay(IdempotencyStore.StoredResponse)
        }
        let outcome: Outcome = try await store.transaction(context.access) { transaction in
            if let key, let actor = transaction.actor {
                switch try IdempotencyStore.claim(user: actor.userID, key: key, scope: scope, requestHash: hash, keys: keys, on: transaction.connection) {
                case .mismatch:
                    throw StoreError.invalid(ValidationFailure("Idempotency-Key", "was already used for a different request"))
                case .erased:
                    throw APIError(.gone, kind: "erased", detail: "this key's request was about a case whose identifying data has since been erased",
                                   errors: [FieldError("Idempotency-Key", "was used for a case since erased")])
                case .replay(let stored):
                    if let caseID = stored.caseID {
                        let access = try transaction.authorizeCase(caseID, .readCase)
                        try transaction.audit(.read, "idempotency.replay", entityKind: "case", entityID: caseID.lowercasedString, caseID: caseID,
                                              subjectOrganisation: access.facts.owningOrganisation, purpose: access.purpose,
                                              detail: ["scope": .string(scope)])
                    } else if let collection {
                        let purpose = try transaction.authorize(collection, .collection)
                        try transaction.audit(.read, "idempotency.replay", purpose: purpose, detail: ["scope": .string(scope)])
                    } else {
                        // An answer about neither a case nor a named collection: nothing to ask, so no replay.
                        throw StoreError.notFound("no such request")
                    }
                    return .replay(stored)
                case .new:
                    break
                }
            }
            let created = try work(transaction)
            if let key, let actor = transaction.actor {
                try IdempotencyStore.record(user: actor.userID, key: key, status: created.status.code, body: created.body, location: created.location,
                                            caseID: created.caseID, keys: keys, on: transaction.connection)
            }
            return .created(created)
        }
        switch outcome {
        case .created(let created):
            var headers: HTTPFields = [.contentType: "application/json"]
            if let location = created.location { headers[.location] = location }
            if let version = created.version { headers[.eTag] = ETag.make(version) }
            return Response(status: created.status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: created.body)))
        case .replay(let stored):
            var headers: HTTPFields = [.contentType: "application/json", .idempotentReplayed: "true"]
            if let location = stored.location { headers[.location] = location }
            return Response(status: HTTPResponse.Status(code: stored.status), headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: stored.body)))
        }
    }
}

extension HTTPField.Name {
    static let idempotentReplayed = HTTPField.Name("Idempotent-Replayed")!
}
