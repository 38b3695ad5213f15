import Foundation
import HavenServices

/// Settings of the HTTP side, resolved by the CLI from flags and `HAVEN_*` variables.
public struct AppConfiguration: Sendable {
    public var host: String
    public var port: Int
    /// Largest request body accepted (413 past it).
    public var bodyLimit: Int
    /// Reverse proxies (addresses or CIDR ranges) whose `X-Forwarded-For` is believed.
    public var trustedProxies: TrustedProxies
    /// Idle and absolute lifetime of bearer tokens.
    public var tokenIdleTimeout: Duration
    public var tokenLifetime: Duration
    /// Failed logins within the window before an account locks, and for how long.
    public var lockoutThreshold: Int
    public var lockoutWindow: Duration
    public var lockoutDuration: Duration
    /// Login attempts per client address per minute.
    public var loginRatePerMinute: Int
    /// How long an address's emptied allowance takes to fill again (a minute).
    public var loginRateRefill: Duration = .seconds(60)
    public var breakGlassDuration: Duration
    /// How long a checked token is trusted without asking the database again (0: never; the
    /// service runs with 1 s).
    public var sessionCacheLifetime: Duration = .zero
    /// Where `GET /openapi.yaml` is read from.
    public var openAPIPath: String?
    /// Folder of the signed audit checkpoints (outside the database); nil keeps none and signs
    /// `GET /v1/audit/checkpoint` for the asker only.
    public var auditCheckpointDirectory: String?
    /// Threads for HTTP's event loops; nil shares NIO's process-wide group (one per core).
    public var eventLoopThreads: Int?
    /// Webhooks: `http://` and loopback or private addresses allowed (tests and development
    /// only; `HAVEN_WEBHOOK_ALLOW_PRIVATE`), and how long a rotated secret keeps signing.
    public var webhooks = WebhookService.Settings()

    public init(
        host: String = "127.0.0.1", port: Int = 8080, bodyLimit: Int = 1 << 20, trustedProxies: TrustedProxies = TrustedProxies(),
        tokenIdleTimeout: Duration = .seconds(30 * 60), tokenLifetime: Duration = .seconds(12 * 3600),
        lockoutThreshold: Int = 5, lockoutWindow: Duration = .seconds(15 * 60), lockoutDuration: Duration = .seconds(15 * 60),
        loginRatePerMinute: Int = 30, breakGlassDuration: Duration = .seconds(3600), openAPIPath: String? = nil
    ) {
        self.host = host
        self.port = port
        self.bodyLimit = bodyLimit
        self.trustedProxies = trustedProxies
        self.tokenIdleTimeout = tokenIdleTimeout
        self.tokenLifetime = tokenLifetime
        self.lockoutThreshold = lockoutThreshold
        self.lockoutWindow = lockoutWindow
        self.lockoutDuration = lockoutDuration
        self.loginRatePerMinute = loginRatePerMinute
        self.breakGlassDuration = breakGlassDuration
        self.openAPIPath = openAPIPath
    }
}
