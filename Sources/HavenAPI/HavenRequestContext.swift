import Foundation
import HavenCore
import HavenStore
import Hummingbird
import NIOCore
import Synchronization

/// Per-request state: the request id every response and log line carries, the client address,
/// and — once the bearer token checked out — the actor.
public struct HavenRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public var requestID: String
    /// The TCP peer; replaced by the forwarded client address when the peer is a trusted proxy.
    public var clientAddress: String?
    public var peerAddress: String?
    public var actor: Actor?
    /// SHA-256 of the bearer token, for logout.
    public var tokenHash: [UInt8]?
    public var passwordChangeRequired = false
    /// The user's role needs a second factor they have not enrolled yet.
    public var secondFactorEnrolmentRequired = false
    /// The authenticated user and their organisation, as the token check found them.
    public var session: AuthenticatedSession?
    /// The largest body a handler reads (the operator's `--body-limit`, set by
    /// `RequestLogMiddleware`, which refuses a larger declared length before any handler runs).
    public var maxUploadSize = 1 << 20

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.requestID = RequestIDs.make()
        self.peerAddress = source.channel.remoteAddress?.ipAddress
        self.clientAddress = peerAddress
    }

    /// The actor, or 401 when the request is not authenticated.
    public func requireActor() throws -> Actor {
        guard let actor else { throw APIError.unauthorized() }
        return actor
    }
}

enum RequestIDs {
    private static let counter = Atomic<UInt64>(0)

    /// 16 hex digits: a counter through the process's randomly keyed SipHash (`Hasher`), so ids
    /// are unique enough to find one request in the logs and not guessable from one another,
    /// without asking the kernel for randomness on every request as the system generator does.
    static func make() -> String {
        var hasher = Hasher()
        hasher.combine(counter.wrappingAdd(1, ordering: .relaxed).newValue)
        let value = UInt64(truncatingIfNeeded: hasher.finalize())
        return String(unsafeUninitializedCapacity: 16) { buffer in
            for index in 0..<16 {
                let digit = UInt8(truncatingIfNeeded: value >> UInt64(60 - 4 * index)) & 0xF
                buffer[index] = digit < 10 ? UInt8(ascii: "0") + digit : UInt8(ascii: "a") + digit - 10
            }
            return 16
        }
    }

    /// An incoming `X-Request-Id` is kept when it is short and plain, so a proxy's id follows
    /// the request; anything else is replaced.
    static func accept(_ value: String?) -> String? {
        guard let value, !value.isEmpty, value.utf8.count <= 64,
              value.utf8.allSatisfy({ c in
                  (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x2D || c == 0x5F || c == 0x2E
              })
        else { return nil }
        return value
    }
}
