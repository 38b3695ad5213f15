import CLibCurl
import NIOPosix

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Sends outbound requests through libcurl on its own thread pool: each call gets a fresh easy
/// handle on one of the pool's threads, so a blocking transfer never runs on an event loop or
/// Swift's cooperative pool, and a slow receiver holds one thread for at most its timeout while
/// the others go on. Knows nothing of Haven: HTTP now, SMTP through the same handles later.
public final class Courier: Sendable {
    let threads: NIOThreadPool

    public init(threads: Int = 4) {
        self.threads = NIOThreadPool(numberOfThreads: max(1, threads))
        self.threads.start()
    }

    public func shutdown() async {
        try? await threads.shutdownGracefully()
    }

    public func post(_ post: OutboundPost) async throws -> OutboundAnswer {
        try await threads.runIfActive { try Courier.postNow(post) }
    }

    /// The numeric addresses `host` resolves to (IPv4 and IPv6), for checking before connecting.
    public func resolve(_ host: String) async throws -> [String] {
        try await threads.runIfActive { try Courier.resolveNow(host) }
    }

    /// The URL's host (without IPv6 brackets), port (the scheme's default when absent) and
    /// scheme, as libcurl reads them; nil when libcurl cannot parse it.
    public static func parts(of url: String) -> (scheme: String, host: String, port: Int)? {
        guard let handle = curl_url() else { return nil }
        defer { curl_url_cleanup(handle) }
        guard curl_url_set(handle, CURLUPART_URL, url, 0) == CURLUE_OK else { return nil }
        func part(_ what: CURLUPart, _ flags: UInt32 = 0) -> String? {
            var value: UnsafeMutablePointer<CChar>? = nil
            guard curl_url_get(handle, what, &value, flags) == CURLUE_OK, let value else { return nil }
            defer { curl_free(value) }
            return String(cString: value)
        }
        guard let scheme = part(CURLUPART_SCHEME), let host = part(CURLUPART_HOST),
              let port = part(CURLUPART_PORT, UInt32(CURLU_DEFAULT_PORT)).flatMap({ Int($0) }) else { return nil }
        let bare = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        return (scheme.lowercased(), bare, port)
    }

    static func postNow(_ post: OutboundPost) throws -> OutboundAnswer {
        for header in post.headers where (header.name + header.value).contains(where: { $0 == "\r" || $0 == "\n" }) || header.name.isEmpty {
            throw DeliveryError(.invalidRequest, "a header name or value holds a line break")
        }
        guard let parts = parts(of: post.url) else { throw DeliveryError(.invalidRequest, "the URL does not parse") }
        guard parts.scheme == "https" || (parts.scheme == "http" && post.allowPlainHTTP) else {
            throw DeliveryError(.refusedScheme, "scheme \(parts.scheme) is not allowed")
        }
        let transfer = try CurlTransfer()
        try transfer.set(CURLOPT_URL, post.url)
        try transfer.set(CURLOPT_PROTOCOLS_STR, post.allowPlainHTTP ? "http,https" : "https")
        try transfer.set(CURLOPT_FOLLOWLOCATION, 0)
        // No proxy from the environment: the address checked is the address connected to.
        try transfer.set(CURLOPT_PROXY, "")
        try transfer.set(CURLOPT_NOSIGNAL, 1)
        try transfer.set(CURLOPT_TIMEOUT_MS, max(1, post.timeoutMilliseconds))
        try transfer.set(CURLOPT_CONNECTTIMEOUT_MS, max(1, post.timeoutMilliseconds))
        try transfer.set(CURLOPT_MAXFILESIZE_LARGE, post.responseLimit + 1)
        try transfer.set(CURLOPT_POST, 1)
        // No `Expect: 100-continue` wait: the body goes with the headers.
        try transfer.set(CURLOPT_HTTPHEADER, list: post.headers.map { "\($0.name): \($0.value)" } + ["Expect:"])
        if let address = post.pinnedAddress {
            let literal = address.contains(":") ? "[\(address)]" : address
            try transfer.set(CURLOPT_RESOLVE, list: ["\(parts.host):\(parts.port):\(literal)"])
        }
        let sink = ResponseSink(limit: max(0, post.responseLimit))
        let context = Unmanaged.passRetained(sink)
        defer { context.release() }
        try transfer.setWriter({ data, size, count, context in
            guard let context else { return 0 }
            let sink = Unmanaged<ResponseSink>.fromOpaque(context).takeUnretainedValue()
            let length = size * count
            let room = sink.limit - sink.bytes.count
            if let data, room > 0 {
                data.withMemoryRebound(to: UInt8.self, capacity: length) {
                    sink.bytes.append(contentsOf: UnsafeBufferPointer(start: $0, count: min(room, length)))
                }
            }
            guard length <= room else { sink.truncated = true; return 0 }
            return length
        }, context: context.toOpaque())

        let code = post.body.withUnsafeBytes { body -> CURLcode in
            do { try transfer.set(CURLOPT_POSTFIELDS, bytes: body) } catch { return CURLE_FAILED_INIT }
            return transfer.perform()
        }
        let status = transfer.responseCode
        if code == CURLE_OK || ((code == CURLE_WRITE_ERROR || code == CURLE_FILESIZE_EXCEEDED) && status > 0) {
            return OutboundAnswer(status: status, body: sink.bytes, truncated: sink.truncated || code == CURLE_FILESIZE_EXCEEDED)
        }
        throw DeliveryError(kind(of: code), code: Int(code.rawValue), CurlTransfer.message(code))
    }

    static func kind(of code: CURLcode) -> DeliveryError.Kind {
        switch code {
        case CURLE_OPERATION_TIMEDOUT: return .timedOut
        case CURLE_COULDNT_RESOLVE_HOST: return .unresolved
        case CURLE_COULDNT_CONNECT: return .unreachable
        case CURLE_UNSUPPORTED_PROTOCOL: return .refusedScheme
        case CURLE_URL_MALFORMAT: return .invalidRequest
        default: return .failed
        }
    }

    static func resolveNow(_ host: String) throws -> [String] {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>? = nil
        let status = getaddrinfo(host, nil, &hints, &list)
        guard status == 0, let first = list else {
            throw DeliveryError(.unresolved, code: Int(status), "the host does not resolve")
        }
        defer { freeaddrinfo(first) }
        var addresses: [String] = []
        var entry: UnsafeMutablePointer<addrinfo>? = first
        while let current = entry {
            var text = [CChar](repeating: 0, count: Int(NI_MAXHOST))
            if let address = current.pointee.ai_addr,
               getnameinfo(address, current.pointee.ai_addrlen, &text, socklen_t(text.count), nil, 0, NI_NUMERICHOST) == 0 {
                let numeric = String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
                if !addresses.contains(numeric) { addresses.append(numeric) }
            }
            entry = current.pointee.ai_next
        }
        guard !addresses.isEmpty else { throw DeliveryError(.unresolved, "the host has no address") }
        return addresses
    }
}

/// Collects an answer's body up to its limit (libcurl's write callback fills it).
private final class ResponseSink {
    let limit: Int
    var bytes: [UInt8] = []
    var truncated = false

    init(limit: Int) { self.limit = limit }
}
