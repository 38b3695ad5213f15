/// One HTTP POST to send: where, what, and the limits it is sent under.
///
/// Only `https` is spoken unless `allowPlainHTTP` is set (an operator's choice, for loopback
/// receivers in tests and development); redirects are never followed, so a receiver cannot
/// send the request on to an address nobody checked.
public struct OutboundPost: Sendable {
    public var url: String
    /// Header lines in order; a name or value holding CR or LF is refused.
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]
    /// The whole exchange, connecting included.
    public var timeoutMilliseconds: Int
    /// At most this many bytes of the answer's body are read; a longer answer is cut there.
    public var responseLimit: Int
    public var allowPlainHTTP: Bool
    /// The address to connect to for the URL's host (`CURLOPT_RESOLVE`), so the address that
    /// was checked is the one connected to: nothing is resolved again between check and use.
    public var pinnedAddress: String?

    public init(url: String, headers: [(name: String, value: String)] = [], body: [UInt8],
                timeoutMilliseconds: Int = 10_000, responseLimit: Int = 64 * 1024,
                allowPlainHTTP: Bool = false, pinnedAddress: String? = nil) {
        self.url = url
        self.headers = headers
        self.body = body
        self.timeoutMilliseconds = timeoutMilliseconds
        self.responseLimit = responseLimit
        self.allowPlainHTTP = allowPlainHTTP
        self.pinnedAddress = pinnedAddress
    }
}

/// What the receiver answered.
public struct OutboundAnswer: Sendable {
    public var status: Int
    /// At most the request's `responseLimit` bytes.
    public var body: [UInt8]
    /// The receiver sent more than the limit; the rest was not read.
    public var truncated: Bool

    public var succeeded: Bool { (200..<300).contains(status) }
}

/// Why nothing (or nothing usable) came back. The description names the failure's kind, never
/// the URL, a header or the body.
public struct DeliveryError: Error, Sendable, CustomStringConvertible, Equatable {
    public enum Kind: Sendable, Equatable {
        case timedOut, unresolved, unreachable, refusedScheme, invalidRequest, failed
    }

    public var kind: Kind
    /// libcurl's code (`CURLcode`), 0 when the request never reached libcurl.
    public var code: Int
    public var message: String

    public init(_ kind: Kind, code: Int = 0, _ message: String) {
        self.kind = kind
        self.code = code
        self.message = message
    }

    public var description: String { "delivery failed (\(kind), curl \(code)): \(message)" }
}
