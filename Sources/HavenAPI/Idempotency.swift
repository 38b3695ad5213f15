import Foundation
import HavenCore
import HavenServices
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
            throw APIError(.unsupportedMediaType, kind: .unsupportedMediaType, detail: "send the body as application/json",
                           errors: [FieldError("Content-Type", "must be application/json")])
        }
        let buffer: ByteBuffer
        do {
            buffer = try await collectBody(upTo: limit)
        } catch {
            throw APIError(.contentTooLarge, kind: .bodyTooLarge, detail: "the request body is larger than \(limit) bytes")
        }
        let bytes = [UInt8](buffer.readableBytesView)
        if bytes.isEmpty { throw APIError.badRequest("body", "is empty; send a JSON object") }
        return (try APIError.decodingBody(T.self, from: bytes), bytes)
    }
}

enum Idempotency {
    /// Runs a creating request in one transaction through `Idempotent.run`, with the request's
    /// `Idempotency-Key`, and answers with the new record or the first answer again.
    static func create(
        _ request: Request, context: HavenRequestContext, scope: String, body: [UInt8], store: Store,
        collection: AccessOperation? = nil,
        _ work: @escaping @Sendable (StoreTransaction) throws -> CreatedResponse
    ) async throws -> Response {
        let key = Idempotent.Request(key: request.headers[.idempotencyKey], scope: scope, body: body)
        return try await respond(request, key: key) {
            try await Idempotent.run(key, store: store, context: context.access, collection: collection) { transaction in try work(transaction).answer }
        }
    }
}

extension Idempotency {
    /// Answers a service's creating call: the new record, or the first answer again on a retry.
    /// A malformed key is refused before anything runs.
    static func respond(_ request: Request, key: Idempotent.Request, _ create: () async throws -> Idempotent.Outcome) async throws -> Response {
        if let key = key.key {
            do { try IdempotencyStore.validate(key) } catch StoreError.invalid(let failure) {
                throw APIError(.badRequest, kind: .badRequest, detail: "Idempotency-Key is malformed", errors: failure.errors)
            }
        }
        let outcome: Idempotent.Outcome
        do {
            outcome = try await create()
        } catch is Idempotent.Erased {
            throw APIError(.gone, kind: .erased, detail: "this key's request was about a case whose identifying data has since been erased",
                           errors: [FieldError("Idempotency-Key", "was used for a case since erased")])
        }
        return response(outcome)
    }

    static func response(_ outcome: Idempotent.Outcome) -> Response {
        switch outcome {
        case .created(let created):
            var headers: HTTPFields = [.contentType: "application/json"]
            if let location = created.location { headers[.location] = location }
            if let version = created.version { headers[.eTag] = ETag.make(version) }
            return Response(status: HTTPResponse.Status(code: created.status), headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: created.body)))
        case .replay(let stored):
            var headers: HTTPFields = [.contentType: "application/json", .idempotentReplayed: "true"]
            if let location = stored.location { headers[.location] = location }
            return Response(status: HTTPResponse.Status(code: stored.status), headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: stored.body)))
        }
    }
}

extension CreatedResponse {
    var answer: Idempotent.Answer {
        Idempotent.Answer(status: status.code, body: body, location: location, caseID: caseID, version: version)
    }
}

extension HTTPField.Name {
    static let idempotentReplayed = HTTPField.Name("Idempotent-Replayed")!
}
