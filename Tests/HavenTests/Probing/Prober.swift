import Foundation
import HavenCore
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Sealing
import Testing

/// Sends probe requests and inspects every answer for the other organisation's markers: status
/// line aside, the body (error bodies too), every header (Location, ETag, ...), pagination
/// cursors (decoded), list counts, and whether the answer differs from the one a random id gets
/// (which would tell the caller the record exists).
final class Prober {
    let world: ProbeWorld
    let client: any TestClientProtocol
    private let needles: [(marker: ProbeWorld.Marker, needle: String)]
    private(set) var requests = 0
    private(set) var cells: Set<String> = []
    /// Distinct findings, first occurrence's text, in the order found.
    private(set) var findings: [String] = []
    /// How often each finding's key came up.
    private(set) var occurrences: [String: Int] = [:]
    private var keys: [String] = []

    init(world: ProbeWorld, client: any TestClientProtocol) {
        self.world = world
        self.client = client
        needles = world.markers.map { ($0, $0.value.lowercased()) }
    }

    /// The labels of the markers an answer holds (for the positive controls).
    func markers(in response: TestResponse) -> Set<String> {
        var haystack = response.text
        for field in response.headers { haystack += "\n\(field.name.rawName): \(field.value)" }
        let lowered = haystack.lowercased()
        return Set(needles.filter { lowered.contains($0.needle) }.map { "\($0.marker.kind.rawValue): \($0.marker.label)" })
    }

    func record(_ finding: String, key: String) {
        occurrences[key, default: 0] += 1
        guard occurrences[key] == 1 else { return }
        findings.append(finding)
        keys.append(key)
    }

    /// Each distinct finding with how many answers showed it.
    var report: [String] {
        zip(findings, keys).map { finding, key in
            let count = occurrences[key] ?? 1
            return count > 1 ? "\(finding) [seen in \(count) answers]" : finding
        }
    }

    func send(_ method: String, _ uri: String, _ member: CaseKit.Member, body: Any?, headers: [String: String] = [:]) async throws -> TestResponse {
        requests += 1
        return try await CaseKit.call(client, HTTPRequest.Method(method)!, uri, member.token, body, headers: headers)
    }

    /// Fails on every marker not allowed here found in the answer; returns the answer's JSON.
    @discardableResult
    func inspect(_ response: TestResponse, cell: String, route: String, allowed: Set<ProbeWorld.Marker.Kind>) -> Any? {
        cells.insert(cell)
        var haystack = response.text
        for field in response.headers { haystack += "\n\(field.name.rawName): \(field.value)" }
        check(haystack, where: "answer \(response.status.code)", cell: cell, route: route, allowed: allowed)
        let json = try? JSONSerialization.jsonObject(with: Data(response.body.readableBytesView))
        for cursor in Prober.cursors(in: json) {
            guard let bytes = Base64URL.decode(cursor), let text = String(bytes: bytes, encoding: .utf8),
                  (try? JSONSerialization.jsonObject(with: Data(text.utf8))) is [String]
            else {
                record("\(cell): next_cursor \(cursor) is not a base64url JSON array of strings", key: "cursor-format \(route)")
                continue
            }
            check(text, where: "decoded next_cursor \(text)", cell: cell, route: route, allowed: allowed)
        }
        return json
    }

    private func check(_ haystack: String, where place: String, cell: String, route: String, allowed: Set<ProbeWorld.Marker.Kind>) {
        let lowered = haystack.lowercased()
        for (marker, needle) in needles where !allowed.contains(marker.kind) && lowered.contains(needle) {
            let context = Prober.excerpt(haystack, around: marker.value)
            record("LEAK \(cell): \(marker.label) (\(marker.kind.rawValue)) in the \(place): …\(context)…",
                   key: "leak \(cell.split(separator: " ").first ?? "") \(route) \(marker.label)")
        }
    }

    static func excerpt(_ text: String, around value: String) -> String {
        guard let range = text.range(of: value, options: .caseInsensitive) else { return String(text.prefix(200)) }
        let start = text.index(range.lowerBound, offsetBy: -160, limitedBy: text.startIndex) ?? text.startIndex
        let end = text.index(range.upperBound, offsetBy: 160, limitedBy: text.endIndex) ?? text.endIndex
        return String(text[start..<end]).replacingOccurrences(of: "\n", with: " ⏎ ")
    }

    static func cursors(in json: Any?) -> [String] {
        switch json {
        case let object as [String: Any]:
            return object.flatMap { key, value -> [String] in
                if key.hasSuffix("cursor"), let text = value as? String { return [text] }
                return cursors(in: value)
            }
        case let array as [Any]:
            return array.flatMap { cursors(in: $0) }
        default:
            return []
        }
    }

    /// What a caller may compare between two answers: status, problem type, detail and fields,
    /// Allow, and how many items a list holds.
    static func shape(_ response: TestResponse) -> String {
        var parts = ["\(response.status.code)"]
        let json = (try? response.json()) ?? [:]
        if response.isProblem {
            parts.append("type=\(json["type"] ?? "-") title=\(json["title"] ?? "-") detail=\(json["detail"] ?? "-")")
            parts.append("fields=\(response.problemFields.sorted())")
        }
        if let items = json["items"] as? [Any] { parts.append("items=\(items.count)") }
        if let allow = response.headers[.allow] { parts.append("allow=\(allow)") }
        return parts.joined(separator: " ")
    }

    /// One cell: the request with the other organisation's ids and its twin with random ids;
    /// both inspected; their shapes (status, problem, list count, Allow) must match unless the
    /// role may see that record by design; cursors are followed a few pages.
    func probe(
        role: Role, method: String, pattern: String, route: String, queryIndex: Int, variant: ProbeRequests.Variant,
        body bodyKind: ProbeRequests.BodyKind = .plausible, compareWithRandom: Bool = true
    ) async throws {
        let member = world.members[role]!
        let allowed = ProbeExceptions.allowed(route, role)
        let query = ProbeRequests.queries(pattern, world.otherIDs)[queryIndex]
        var shapes: [String] = []
        for (label, baseIDs) in [("other", world.otherIDs), ("random", ProbeWorld.IDs.random())] {
            let ids = variant.adjust(baseIDs, world)
            guard let path = ProbeRequests.path(pattern, ids, homeCase: variant.homeCase ? world.homeCase : nil) else {
                record("no probe id known for a parameter of \(route): teach ProbeRequests.path", key: "unknown \(route)")
                return
            }
            let queryText = ProbeRequests.queries(pattern, ids)[queryIndex]
            let uri = queryText.isEmpty ? path : path + "?" + queryText
            let body: Any?
            switch bodyKind {
            case .plausible: body = ProbeRequests.body(method, pattern, ids, world)
            case .empty: body = [String: Any]()
            case .invalid: body = ProbeRequests.invalidBody(method, pattern, ids)
            }
            let cell = "\(role.rawValue) \(route)\(query.isEmpty ? "" : "?" + query) [\(variant.label)\(bodyKind.label)] | \(label)"
            let response = try await send(method, uri, member, body: body, headers: ProbeRequests.headers(method, pattern, member))
            let json = inspect(response, cell: cell, route: route, allowed: allowed)
            shapes.append(Prober.shape(response))
            if label == "other", response.status.code >= 500 {
                record("SERVER ERROR \(cell): \(response.status.code) \(response.text.prefix(300))", key: "5xx \(cell)")
            }
            if method == "GET", response.status == .ok {
                try await followCursors(json, uri: uri, member: member, cell: cell, route: route, allowed: allowed)
            }
        }
        // A list filtered by the other organisation's id holds as many items as one filtered by a
        // random id (none, unless the filter is replaced, as GET /v1/users does for supervisors).
        if compareWithRandom, !ProbeExceptions.revealsExistence(route, role), shapes[0] != shapes[1] {
            record("EXISTENCE \(role.rawValue) \(route)\(query.isEmpty ? "" : "?" + query) [\(variant.label)\(bodyKind.label)]: "
                   + "the other organisation's ids get «\(shapes[0])», random ids get «\(shapes[1])»",
                   key: "existence \(role) \(route) \(query) \(variant.label) \(bodyKind.label)")
        }
    }

    func followCursors(_ json: Any?, uri: String, member: CaseKit.Member, cell: String, route: String, allowed: Set<ProbeWorld.Marker.Kind>,
                       pages: Int = 4) async throws {
        var next = (json as? [String: Any])?["next_cursor"] as? String
        var page = 1
        while let cursor = next, page < pages {
            page += 1
            let separator = uri.contains("?") ? "&" : "?"
            let escaped = cursor.addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed.subtracting(CharacterSet(charactersIn: "&=+"))) ?? cursor
            let response = try await send("GET", uri + separator + "cursor=" + escaped, member, body: nil)
            let json = inspect(response, cell: cell + " page \(page)", route: route, allowed: allowed)
            next = (json as? [String: Any])?["next_cursor"] as? String
        }
    }
}
