import HTTPTypes
import NIOConcurrencyHelpers

/// The routes the application serves, by method and pattern (`/v1/cases/:id`), so a request for
/// a known path with the wrong method answers 405 with `Allow`, not 404.
final class RouteTable: Sendable {
    private struct Entry {
        let method: HTTPRequest.Method
        let segments: [Substring]
    }

    private let entries = NIOLockedValueBox<[Entry]>([])

    func add(_ method: HTTPRequest.Method, _ path: String) {
        let segments = path.split(separator: "/")
        entries.withLockedValue { $0.append(Entry(method: method, segments: segments)) }
    }

    var all: [(method: HTTPRequest.Method, path: String)] {
        entries.withLockedValue { $0.map { ($0.method, "/" + $0.segments.joined(separator: "/")) } }
    }

    func allowedMethods(for path: String) -> [HTTPRequest.Method] {
        let segments = path.split(separator: "/")
        var methods: [HTTPRequest.Method] = []
        for entry in entries.withLockedValue({ $0 }) where entry.segments.count == segments.count {
            let matches = zip(entry.segments, segments).allSatisfy { pattern, segment in pattern.hasPrefix(":") || pattern == segment }
            if matches && !methods.contains(entry.method) { methods.append(entry.method) }
        }
        if methods.contains(.get) && !methods.contains(.head) { methods.append(.head) }
        return methods
    }
}
