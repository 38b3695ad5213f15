import CLibCurl
import NIOPosix

/// One message to hand to an SMTP relay: the relay, how it is reached, the envelope and the
/// message's bytes (RFC 5322, already composed).
///
/// libcurl speaks SMTP with the same handles as HTTP, is maintained and packaged everywhere
/// Haven runs, and does STARTTLS and authentication itself; a hand-written SMTP client would be
/// one more TLS state machine to keep correct.
public struct OutboundMail: Sendable {
    /// How the connection to the relay is protected.
    public enum Security: String, Sendable {
        /// STARTTLS must succeed, or nothing is sent (the default).
        case startTLS = "starttls"
        /// TLS from the first byte (`smtps`, usually port 465).
        case implicitTLS = "tls"
        /// Plain text: for a relay on loopback only (checked by whoever configures it).
        case none
    }

    public var host: String
    public var port: Int
    public var security: Security
    /// A PEM file of certificate authorities to trust instead of the system's.
    public var caFile: String?
    public var username: String?
    public var password: String?
    /// The envelope: `MAIL FROM` and one `RCPT TO`.
    public var from: String
    public var to: String
    public var message: [UInt8]
    public var timeoutMilliseconds: Int

    public init(host: String, port: Int, security: Security = .startTLS, caFile: String? = nil, username: String? = nil,
                password: String? = nil, from: String, to: String, message: [UInt8], timeoutMilliseconds: Int = 30_000) {
        self.host = host
        self.port = port
        self.security = security
        self.caFile = caFile
        self.username = username
        self.password = password
        self.from = from
        self.to = to
        self.message = message
        self.timeoutMilliseconds = timeoutMilliseconds
    }
}

extension Courier {
    /// Hands `mail` to its relay; throws when the relay did not take it.
    public func send(_ mail: OutboundMail) async throws {
        try await threads.runIfActive { try Courier.sendNow(mail) }
    }

    static func sendNow(_ mail: OutboundMail) throws {
        for value in [mail.host, mail.from, mail.to] where value.contains(where: { $0 == "\r" || $0 == "\n" || $0 == "<" || $0 == ">" }) {
            throw DeliveryError(.invalidRequest, "an address holds a line break or an angle bracket")
        }
        let host = mail.host.contains(":") ? "[\(mail.host)]" : mail.host
        let transfer = try CurlTransfer()
        try transfer.set(CURLOPT_URL, (mail.security == .implicitTLS ? "smtps://" : "smtp://") + host + ":" + String(mail.port))
        try transfer.set(CURLOPT_PROTOCOLS_STR, "smtp,smtps")
        try transfer.set(CURLOPT_PROXY, "")
        try transfer.set(CURLOPT_NOSIGNAL, 1)
        try transfer.set(CURLOPT_TIMEOUT_MS, max(1, mail.timeoutMilliseconds))
        try transfer.set(CURLOPT_CONNECTTIMEOUT_MS, max(1, mail.timeoutMilliseconds))
        try transfer.set(CURLOPT_USE_SSL, mail.security == .none ? Int(CURLUSESSL_NONE.rawValue) : Int(CURLUSESSL_ALL.rawValue))
        if let caFile = mail.caFile { try transfer.set(CURLOPT_CAINFO, caFile) }
        if let username = mail.username { try transfer.set(CURLOPT_USERNAME, username) }
        if let password = mail.password { try transfer.set(CURLOPT_PASSWORD, password) }
        try transfer.set(CURLOPT_MAIL_FROM, "<" + mail.from + ">")
        try transfer.set(CURLOPT_MAIL_RCPT, list: ["<" + mail.to + ">"])
        try transfer.set(CURLOPT_UPLOAD, 1)
        try transfer.set(CURLOPT_INFILESIZE_LARGE, mail.message.count)

        let source = MessageSource(mail.message)
        let context = Unmanaged.passRetained(source)
        defer { context.release() }
        try transfer.setReader({ buffer, size, count, context in
            guard let buffer, let context else { return 0 }
            let source = Unmanaged<MessageSource>.fromOpaque(context).takeUnretainedValue()
            let length = min(size * count, source.bytes.count - source.offset)
            source.bytes.withUnsafeBytes { bytes in
                if let base = bytes.baseAddress, length > 0 {
                    UnsafeMutableRawPointer(buffer).copyMemory(from: base + source.offset, byteCount: length)
                }
            }
            source.offset += length
            return length
        }, context: context.toOpaque())
        let code = transfer.perform()
        guard code == CURLE_OK else {
            throw DeliveryError(kind(of: code), code: Int(code.rawValue), CurlTransfer.message(code))
        }
    }
}

/// The message libcurl's read callback hands out, chunk by chunk.
private final class MessageSource {
    let bytes: [UInt8]
    var offset = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }
}
