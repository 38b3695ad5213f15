import HavenAPI
import Logging
import Synchronization
import Testing

/// The log handler `haven` installs: request metadata attached to a logger shows on its lines,
/// a line's own metadata wins over it, and levels filter as before.
@Suite struct LogHandlerTests {
    final class Lines: TextOutputStream, Sendable {
        private let text = Mutex("")
        func write(_ string: String) { text.withLock { $0 += string } }
        var lines: [String] { text.withLock { $0.split(separator: "\n").map(String.init) } }
    }

    @Test func metadataShowsWhenALineIsWritten() {
        let lines = Lines()
        var logger = Logger(label: "haven") { LazyMetadataLogHandler(label: $0, stream: lines) }
        logger.logLevel = .info
        logger.info("plain")
        logger[metadataKey: "request"] = "r1"
        logger[metadataKey: "route"] = "/v1/me"
        logger.info("with request")
        logger.info("explicit", metadata: ["route": "/v1/cases", "status": "404"])
        logger.debug("filtered")
        let written = lines.lines
        #expect(written.count == 3)
        #expect(written[0].hasSuffix(" info haven: [HavenTests] plain"))
        #expect(written[1].contains("request=r1") && written[1].contains("route=/v1/me") && written[1].hasSuffix("with request"))
        #expect(written[2].contains("request=r1") && written[2].contains("route=/v1/cases") && written[2].contains("status=404"))
        #expect(!written[2].contains("/v1/me"))
        #expect(logger[metadataKey: "request"] == "r1")
    }

    /// Hummingbird's request id, which the handler holds apart from the other metadata, reads
    /// back, shows on lines, is overridden by a line's own value and can be removed.
    @Test func hummingbirdsRequestIDBehavesLikeOtherMetadata() {
        let lines = Lines()
        var logger = Logger(label: "haven") { LazyMetadataLogHandler(label: $0, stream: lines) }
        logger.logLevel = .info
        #expect(logger[metadataKey: "hb.request.id"] == nil)
        logger[metadataKey: "hb.request.id"] = "abc123"
        #expect(logger[metadataKey: "hb.request.id"]?.description == "abc123")
        logger.info("only the id")
        logger[metadataKey: "route"] = "/v1/me"
        logger.info("id and route")
        logger.info("explicit", metadata: ["hb.request.id": "other"])
        logger[metadataKey: "hb.request.id"] = nil
        logger.info("removed")
        let written = lines.lines
        #expect(written.count == 4)
        #expect(written[0].contains("hb.request.id=abc123") && written[0].hasSuffix("only the id"))
        #expect(written[1].contains("hb.request.id=abc123") && written[1].contains("route=/v1/me"))
        #expect(written[2].contains("hb.request.id=other") && !written[2].contains("abc123"))
        #expect(!written[3].contains("hb.request.id") && written[3].contains("route=/v1/me"))
    }
}
