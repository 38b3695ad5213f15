import Logging

/// Standard error's log handler, with its metadata formatted when a line is written rather than
/// whenever it changes. Every request's logger gets a request id attached; `StreamLogHandler`
/// formats its whole metadata again on each such change, though most requests log nothing.
public struct LazyMetadataLogHandler: LogHandler {
    private var stream: StreamLogHandler
    public var metadata: Logger.Metadata = [:]

    /// Lines go to standard error, or to `stream` (tests).
    public init(label: String, stream: (any TextOutputStream & Sendable)? = nil) {
        self.stream = stream.map { StreamLogHandler(label: label, stream: $0, metadataProvider: nil) } ?? StreamLogHandler.standardError(label: label)
    }

    public var logLevel: Logger.Level {
        get { stream.logLevel }
        set { stream.logLevel = newValue }
    }

    public var metadataProvider: Logger.MetadataProvider? {
        get { stream.metadataProvider }
        set { stream.metadataProvider = newValue }
    }

    /// Hummingbird's request id, the one key every request sets: held apart, so attaching it
    /// does not allocate a dictionary per request.
    private var requestID: Logger.Metadata.Value?
    private static let requestIDKey = "hb.request.id"

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { key == Self.requestIDKey ? requestID : metadata[key] }
        set {
            if key == Self.requestIDKey { requestID = newValue } else { metadata[key] = newValue }
        }
    }

    public func log(event: LogEvent) {
        var event = event
        if !metadata.isEmpty || requestID != nil {
            var attached = metadata
            if let requestID { attached[Self.requestIDKey] = requestID }
            event.metadata = attached.merging(event.metadata ?? [:]) { _, explicit in explicit }
        }
        stream.log(event: event)
    }
}
