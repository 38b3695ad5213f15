import Foundation
import Hummingbird

/// A posted `application/x-www-form-urlencoded` body, read up to the request size limit.
struct ConsoleForm: Sendable {
    var values: [String: String] = [:]

    init(_ values: [String: String] = [:]) {
        self.values = values
    }

    static func read(_ request: Request, limit: Int) async throws -> ConsoleForm {
        let buffer = try await request.body.collect(upTo: limit)
        return ConsoleForm(text: String(buffer: buffer))
    }

    init(text: String) {
        for pair in text.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = ConsoleForm.decode(parts[0]) else { continue }
            // A repeated field keeps its first value: no form here sends one twice.
            if values[name] == nil { values[name] = parts.count > 1 ? ConsoleForm.decode(parts[1]) ?? "" : "" }
        }
    }

    private static func decode(_ text: Substring) -> String? {
        text.replacingOccurrences(of: "+", with: " ").removingPercentEncoding
    }

    subscript(_ name: String) -> String? { values[name] }

    /// The field's value, trimmed; nil when empty.
    func text(_ name: String) -> String? {
        guard let value = values[name]?.trimmingCharacters(in: .whitespacesAndNewlines), !value.isEmpty else { return nil }
        return value
    }
}
