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
}
