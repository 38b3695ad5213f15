import Foundation
import Testing

/// The layers as ARCHITECTURE.md draws them, checked on the sources: the HTTP layer holds no
/// database access and decides no authorisation; the application services know no HTTP.
@Suite struct LayeringTests {
    static let sources = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Sources")

    static func files(_ target: String) throws -> [(name: String, text: String)] {
        let root = sources.appendingPathComponent(target)
        guard let walker = FileManager.default.enumerator(atPath: root.path) else { return [] }
        return try walker.compactMap { $0 as? String }.filter { $0.hasSuffix(".swift") }.map { name in
            (name, try String(contentsOf: root.appendingPathComponent(name), encoding: .utf8))
        }
    }

    @Test func theHTTPLayerNamesNoConnectionNoSQLAndDecidesNoAccess() throws {
        let files = try Self.files("HavenAPI")
        #expect(files.count > 20, "the HTTP layer's sources were not found")
        let forbidden = ["PGConnection", "import Postgres", "AccessPolicy.decide", "transaction.connection", "withConnection", ".connection)"]
        let sql = try NSRegularExpression(pattern: #""[^"\n]*\b(SELECT\s|INSERT\s+INTO|DELETE\s+FROM|UPDATE\s+[a-z_]+\s+SET)"#)
        for file in files {
            for word in forbidden { #expect(!file.text.contains(word), "\(file.name) names \(word): move it into an application service") }
            let range = NSRange(file.text.startIndex..., in: file.text)
            #expect(sql.firstMatch(in: file.text, range: range) == nil, "\(file.name) holds SQL: it belongs in a store")
        }
    }

    @Test func theApplicationServicesKnowNoHTTP() throws {
        let files = try Self.files("HavenServices")
        #expect(files.count > 5, "the services' sources were not found")
        for file in files {
            for word in ["import Hummingbird", "import HTTPTypes", "import NIOHTTP1", "HTTPResponse"] {
                #expect(!file.text.contains(word), "\(file.name) names \(word): the services are the same for the API and the console")
            }
        }
    }
}
