import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing

/// Checks answers against the document: the status is one the operation lists, the documented
/// required headers are there, the body has the documented media type and validates against its
/// schema (problems against the problem schema). Remembers which operations answered with
/// success, for the coverage check at the end of a walk.
actor ContractChecker {
    let document: OpenAPIDocument
    private var successes: Set<OpenAPIDocument.Operation> = []
    private(set) var seen: [OpenAPIDocument.Operation: Set<Int>] = [:]

    init(document: OpenAPIDocument) {
        self.document = document
    }

    /// Every mismatch between one exchange and the document, each a readable sentence naming
    /// the operation, the status and the JSON pointer.
    func check(method: String, uri: String, requestBody: ContractJSON?, status: Int, headers: HTTPFields, body: [UInt8]) -> [String] {
        let path = String(uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)[0])
        guard let operation = document.operation(method: method, path: path) else {
            return ["\(method) \(path): no operation in openapi.yaml matches this request (answered \(status))"]
        }
        seen[operation, default: []].insert(status)
        let label = "\(operation) → \(status)"
        let responses = document.responses(operation)
        guard let response = responses[String(status)] else {
            let documented = responses.keys.sorted().joined(separator: ", ")
            return ["\(label): status \(status) is not documented for this operation (documented: \(documented)); body: \(excerpt(body))"]
        }
        var failures: [String] = []
        let validator = document.validator

        for (name, declared) in (response["headers"]?.objectValue ?? [:]).sorted(by: { $0.key < $1.key }) {
            guard let header = document.dereference(declared), let fieldName = HTTPField.Name(name) else { continue }
            let value = headers[fieldName]
            if header["required"] == .bool(true) && value == nil {
                failures.append("\(label): documented header \(name) is missing")
            }
            if let value, let schema = header["schema"] {
                for mismatch in validator.validate(.string(value), against: schema) {
                    failures.append("\(label): header \(name): \(mismatch.message)")
                }
            }
        }

        let mediaType = headers[.contentType]?.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        if let content = response["content"]?.objectValue {
            if let mediaType, let entry = content[mediaType] {
                if mediaType == "application/json" || mediaType.hasSuffix("+json") {
                    do {
                        let json = try ContractJSON.parse(Data(body))
                        if let schema = entry["schema"] {
                            for mismatch in validator.validate(json, against: schema) {
                                failures.append("\(label): body \(mismatch)")
                            }
                        }
                        if mediaType == "application/problem+json", json["status"]?.intValue != status {
                            failures.append("\(label): body /status: the problem's status \(json["status"]?.description ?? "nothing") is not \(status)")
                        }
                    } catch {
                        failures.append("\(label): body is not JSON: \(excerpt(body))")
                    }
                }
            } else {
                let documented = content.keys.sorted().joined(separator: ", ")
                failures.append("\(label): content type \(mediaType ?? "none") is not documented (documented: \(documented))")
            }
        } else if !body.isEmpty {
            failures.append("\(label): documented without a body, but \(body.count) bytes came: \(excerpt(body))")
        }

        if (200..<300).contains(status), let requestBody, let schema = document.requestSchema(operation) {
            for mismatch in validator.validate(requestBody, against: schema) {
                failures.append("\(operation): the accepted request body does not match the documented request schema at \(mismatch)")
            }
        }
        if (200..<300).contains(status) && failures.isEmpty { successes.insert(operation) }
        return failures
    }

    /// Operations the document lists that never answered with a success that matched it.
    func uncovered() -> [OpenAPIDocument.Operation] {
        document.operations.filter { !successes.contains($0) }
    }

    private func excerpt(_ body: [UInt8]) -> String {
        let text = String(decoding: body.prefix(300), as: UTF8.self)
        return body.count > 300 ? text + "..." : text
    }
}

/// An answer as the walk reads it.
struct ContractResponse: Sendable {
    var status: HTTPResponse.Status
    var headers: HTTPFields
    var json: ContractJSON
    var text: String

    subscript(key: String) -> ContractJSON? { json[key] }

    /// A UUID member (`id`, `case_id`, ...) of the body, or of a nested object by dotted path.
    func uuid(_ path: String = "id") throws -> UUID {
        var node: ContractJSON? = json
        for key in path.split(separator: ".") { node = node?[String(key)] }
        guard let text = node?.stringValue, let id = UUID(uuidString: text) else {
            throw ContractError("no UUID at \(path) in \(self.text.prefix(300))")
        }
        return id
    }

    var items: [ContractJSON] { json["items"]?.arrayValue ?? [] }
    var eTag: String? { headers[.eTag] }
}

/// Sends requests through HummingbirdTesting and checks every answer against the document.
struct ContractClient: Sendable {
    let client: any TestClientProtocol
    let checker: ContractChecker

    static let idempotencyKey = HTTPField.Name("Idempotency-Key")!

    /// Sends `json` (or `raw` bytes with `contentType`), checks the answer against the document,
    /// and, when `expect` is given, that the status is that one.
    @discardableResult
    func call(
        _ method: HTTPRequest.Method, _ uri: String, token: String? = nil, json: ContractJSON? = nil,
        raw: String? = nil, contentType: String? = "application/json", headers extra: HTTPFields = [:],
        expect: HTTPResponse.Status? = nil, sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> ContractResponse {
        var headers = extra
        if let token { headers[.authorization] = "Bearer \(token)" }
        var body: ByteBuffer?
        if let json {
            body = ByteBuffer(bytes: try json.encoded())
        } else if let raw {
            body = ByteBuffer(string: raw)
        }
        if body != nil, let contentType, headers[.contentType] == nil { headers[.contentType] = contentType }
        let response = try await client.executeRequest(uri: uri, method: method, headers: headers, body: body)
        let bytes = [UInt8](response.body.readableBytesView)
        let failures = await checker.check(method: method.rawValue, uri: uri, requestBody: json, status: response.status.code,
                                           headers: response.headers, body: bytes)
        for failure in failures {
            Issue.record("\(failure)", sourceLocation: sourceLocation)
        }
        let text = String(decoding: bytes, as: UTF8.self)
        if let expect {
            #expect(response.status == expect, "\(method.rawValue) \(uri): expected \(expect.code), got \(response.status.code): \(text.prefix(400))",
                    sourceLocation: sourceLocation)
        }
        let parsed = (try? ContractJSON.parse(Data(bytes))) ?? .null
        return ContractResponse(status: response.status, headers: response.headers, json: parsed, text: text)
    }
}
