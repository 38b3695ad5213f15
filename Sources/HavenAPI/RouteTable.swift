import HTTPTypes
import Hummingbird
import NIOConcurrencyHelpers

/// The API's routes as the router lists them (`router.routes`, path patterns such as
/// `/v1/cases/{id}`), recorded once they are all registered, so a request for a known path with
/// the wrong method answers 405 with `Allow`, not 404.
final class RouteTable: Sendable {
    private struct Entry {
        let method: HTTPRequest.Method
        let segments: [Substring]
    }

    private let entries = NIOLockedValueBox<[Entry]>([])

    func record(_ routes: [Router<HavenRequestContext>.RouteDescription]) {
        let recorded = routes.map { Entry(method: $0.method, segments: $0.path.description.split(separator: "/")) }
        entries.withLockedValue { $0 = recorded }
    }

    var all: [(method: HTTPRequest.Method, path: String)] {
        entries.withLockedValue { $0.map { ($0.method, "/" + $0.segments.joined(separator: "/")) } }
    }

    func allowedMethods(for path: String) -> [HTTPRequest.Method] {
        let segments = path.split(separator: "/")
        var methods: [HTTPRequest.Method] = []
        for entry in entries.withLockedValue({ $0 }) where entry.segments.count == segments.count {
            let matches = zip(entry.segments, segments).allSatisfy { pattern, segment in pattern.hasPrefix("{") || pattern == segment }
            if matches && !methods.contains(entry.method) { methods.append(entry.method) }
        }
        if methods.contains(.get) && !methods.contains(.head) { methods.append(.head) }
        return methods
    }
}
