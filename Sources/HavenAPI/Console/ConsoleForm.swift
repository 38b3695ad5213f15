import Foundation
import Hummingbird

/// A posted `application/x-www-form-urlencoded` body, read up to the request size limit.
struct ConsoleForm: Sendable {
    var values: [String: String] = [:]
    /// Every value of each field, in order (checkboxes send one per ticked box).
    var lists: [String: [String]] = [:]

    init(_ values: [String: String] = [:]) {
        self.values = values
        lists = values.mapValues { [$0] }
    }

    static func read(_ request: Request, limit: Int) async throws -> ConsoleForm {
        let buffer = try await request.body.collect(upTo: limit)
        return ConsoleForm(text: String(buffer: buffer))
    }

    init(text: String) {
        for pair in text.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = ConsoleForm.decode(parts[0]) else { continue }
            let value = parts.count > 1 ? ConsoleForm.decode(parts[1]) ?? "" : ""
            // A single-valued field keeps its first value; checkboxes are read through `all`.
            if values[name] == nil { values[name] = value }
            lists[name, default: []].append(value)
        }
    }

    private static func decode(_ text: Substring) -> String? {
        text.replacingOccurrences(of: "+", with: " ").removingPercentEncoding
    }

    subscript(_ name: String) -> String? { values[name] }

    func all(_ name: String) -> [String] { lists[name] ?? [] }

    /// The field's value, trimmed; nil when empty.
    func text(_ name: String) -> String? {
        guard let value = values[name]?.trimmingCharacters(in: .whitespacesAndNewlines), !value.isEmpty else { return nil }
        return value
    }

    /// The form as the JSON body the API takes for the same request, so the service decodes
    /// and checks it exactly as it does the API's: dotted names nest, `integers` become numbers
    /// when they read as one (else stay text, which the decoder refuses naming the field),
    /// `lists` collect every ticked box, `flags` are true when ticked. Empty fields are left out.
    func json(integers: Set<String> = [], lists: Set<String> = [], flags: Set<String> = []) -> [String: Any] {
        var root: [String: Any] = [:]
        for name in Set(values.keys).union(lists) where name != "csrf" && name != "idempotency_key" {
            let value: Any?
            if lists.contains(name) {
                let items = all(name).filter { !$0.isEmpty }
                value = items.isEmpty ? nil : items
            } else if flags.contains(name) {
                value = values[name] != nil
            } else if let text = text(name) {
                value = integers.contains(name) ? (Int(text).map { $0 as Any } ?? text) : text
            } else {
                value = nil
            }
            guard let value else { continue }
            Nesting.insert(value, at: name.split(separator: ".").map(String.init)[...], into: &root)
        }
        return root
    }
}
