import Foundation
import Yams

/// `Schema/openapi.yaml`, read with Yams, with the look-ups the contract tests need: the
/// operations, the operation a concrete request path belongs to, and its documented responses.
struct OpenAPIDocument: Sendable {
    struct Operation: Sendable, Hashable, CustomStringConvertible {
        var method: String
        var path: String
        var description: String { "\(method) \(path)" }
    }

    let root: ContractJSON
    let operations: [Operation]

    static let methods = ["get", "put", "post", "delete", "options", "head", "patch", "trace"]

    /// Where the document lives in the repository.
    static var path: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../../Schema/openapi.yaml").standardizedFileURL.path
    }

    static func load(_ path: String = OpenAPIDocument.path) throws -> OpenAPIDocument {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        return try OpenAPIDocument(root: ContractJSON(any: try Yams.load(yaml: text)))
    }

    init(root: ContractJSON) throws {
        self.root = root
        guard let paths = root["paths"]?.objectValue else { throw ContractError("the document has no paths") }
        var operations: [Operation] = []
        for (path, item) in paths {
            for method in OpenAPIDocument.methods where item[method] != nil {
                operations.append(Operation(method: method.uppercased(), path: path))
            }
        }
        self.operations = operations.sorted { ($0.path, $0.method) < ($1.path, $1.method) }
    }

    var validator: SchemaValidator { SchemaValidator(root: root) }

    func object(_ operation: Operation) -> ContractJSON? {
        root["paths"]?[operation.path]?[operation.method.lowercased()]
    }

    /// Follows `$ref` until a node that is not a reference.
    func dereference(_ node: ContractJSON?) -> ContractJSON? {
        var node = node
        var hops = 0
        while let reference = node?["$ref"]?.stringValue, hops < 16 {
            node = validator.resolve(reference)
            hops += 1
        }
        return node
    }

    /// The operation whose path template matches `path` (no query string). Literal segments
    /// beat parameters, so `/v1/organisations/match` is not taken for `/v1/organisations/{id}`.
    func operation(method: String, path: String) -> Operation? {
        let segments = path.split(separator: "/", omittingEmptySubsequences: true)
        var best: (Operation, Int)?
        for operation in operations where operation.method == method.uppercased() {
            let pattern = operation.path.split(separator: "/", omittingEmptySubsequences: true)
            guard pattern.count == segments.count else { continue }
            var literal = 0
            var matches = true
            for (expected, actual) in zip(pattern, segments) {
                if expected.hasPrefix("{") && expected.hasSuffix("}") { continue }
                if expected == actual { literal += 1 } else { matches = false; break }
            }
            if matches && (best == nil || literal > best!.1) { best = (operation, literal) }
        }
        return best?.0
    }

    /// The documented response objects of an operation, by status code text.
    func responses(_ operation: Operation) -> [String: ContractJSON] {
        (object(operation)?["responses"]?.objectValue ?? [:]).compactMapValues { dereference($0) }
    }

    func successStatuses(_ operation: Operation) -> [String] {
        responses(operation).keys.filter { $0.hasPrefix("2") }.sorted()
    }

    /// The JSON request body schema, when the operation takes one.
    func requestSchema(_ operation: Operation) -> ContractJSON? {
        dereference(object(operation)?["requestBody"])?["content"]?["application/json"]?["schema"]
    }

    /// Whether an operation is open (`security: []`) or needs the bearer token.
    func isOpen(_ operation: Operation) -> Bool {
        object(operation)?["security"] == .array([])
    }
}
