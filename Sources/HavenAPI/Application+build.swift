import Foundation
import HavenCore
import HavenServices
import HavenStore
import Hummingbird
import NIOPosix
import Logging
import ServiceLifecycle

/// What the HTTP layer needs from below.
public struct HavenDependencies: Sendable {
    public var store: Store
    /// The schema this build expects (`/readyz` compares the database with it).
    public var schema: DatabaseSchema
    public var hasher: Credentials
    /// A streaming replica reports may read from; nil reads them from the primary.
    public var replica: Store?

    public init(store: Store, schema: DatabaseSchema, hasher: Credentials, replica: Store? = nil) {
        self.store = store
        self.schema = schema
        self.hasher = hasher
        self.replica = replica
    }
}

/// The application: router, middleware, and the background services that run beside it.
public func buildApplication(
    configuration: AppConfiguration, dependencies: HavenDependencies, services: [any Service] = [],
    eventLoopGroup: EventLoopGroupProvider = .singleton, logger: Logger
) -> some ApplicationProtocol {
    let router = buildRouter(configuration: configuration, dependencies: dependencies)
    var app = Application(
        router: router,
        server: .http1(configuration: .init(additionalChannelHandlers: [ParserErrorHandler()], idleTimeout: .seconds(75))),
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: nil),
        services: services,
        eventLoopGroupProvider: eventLoopGroup,
        logger: logger
    )
    app.logger = logger
    return app
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}

/// Builds the application and serves until SIGINT or SIGTERM, then drains and returns.
public func serve(configuration: AppConfiguration, dependencies: HavenDependencies, services: [any Service], logger: Logger) async throws {
    let group = configuration.eventLoopThreads.map { MultiThreadedEventLoopGroup(numberOfThreads: $0) }
    let app = buildApplication(configuration: configuration, dependencies: dependencies, services: services,
                               eventLoopGroup: group.map { .shared($0) } ?? .singleton, logger: logger)
    do {
        try await app.runService()
    } catch {
        try? await group?.shutdownGracefully()
        throw error
    }
    try await group?.shutdownGracefully()
}

/// Every route the application serves, as (method, path pattern with `{name}` parameters), for
/// checking the API document against the implementation.
public func routeList(configuration: AppConfiguration, dependencies: HavenDependencies) -> [(method: String, path: String)] {
    let table = RouteTable()
    _ = buildRouter(configuration: configuration, dependencies: dependencies, table: table)
    return table.all.map { ($0.method.rawValue, $0.path) }
}

public func buildRouter(configuration: AppConfiguration, dependencies: HavenDependencies) -> Router<HavenRequestContext> {
    buildRouter(configuration: configuration, dependencies: dependencies, table: RouteTable())
}

func buildRouter(configuration: AppConfiguration, dependencies: HavenDependencies, table: RouteTable) -> Router<HavenRequestContext> {
    let router = Router(context: HavenRequestContext.self, options: .autoGenerateHeadEndpoints)
    let metrics = HTTPMetrics()
    router.add(middleware: RequestLogMiddleware(metrics: metrics, trustedProxies: configuration.trustedProxies, routes: table, bodyLimit: configuration.bodyLimit))
    let store = dependencies.store
    let auth = AuthService(store: store, hasher: dependencies.hasher, settings: .init(
        lockout: LockoutPolicy(threshold: configuration.lockoutThreshold, window: configuration.lockoutWindow.seconds, duration: configuration.lockoutDuration.seconds),
        tokenLifetime: configuration.tokenLifetime))
    let sessions = SessionCache(lifetime: configuration.sessionCacheLifetime)
    let authenticator = Authenticator(store: store, auth: auth, configuration: configuration, cache: sessions,
                                      rejections: LoginRateLimiter(perMinute: configuration.loginRatePerMinute, refill: configuration.loginRateRefill))
    let routes = Routes(router: router, authenticator: authenticator)
    HealthController(store: store, schema: dependencies.schema).register(routes)
    MetricsController(metrics: metrics, store: store).register(routes)
    // One limiter for both login doors: the API's and the console's form.
    let loginLimiter = LoginRateLimiter(perMinute: configuration.loginRatePerMinute, refill: configuration.loginRateRefill)
    AuthController(store: store, auth: auth, limiter: loginLimiter, sessions: sessions).register(routes)
    OrganisationController(store: store).register(routes)
    WebhookController(store: store, settings: configuration.webhooks).register(routes)
    UserController(store: store, hasher: dependencies.hasher, sessions: sessions).register(routes)
    AuditController(store: store, checkpoints: configuration.auditCheckpointDirectory.map(AuditCheckpointFolder.init(path:))).register(routes)
    CaseController(store: store, breakGlassDuration: configuration.breakGlassDuration).register(routes)
    ClosureController(store: store).register(routes)
    CaseTransferController(store: store).register(routes)
    CaseDetailsController(store: store).register(routes)
    ReferralController(store: store).register(routes)
    ReferralEpisodeController(store: store).register(routes)
    BreakGlassController(store: store).register(routes)
    NotificationController(store: store).register(routes)
    NotificationEmailController(store: store).register(routes)
    PrivacyController(store: store, auth: auth).register(routes)
    ReportController(reports: ReportService(primary: store, replica: dependencies.replica)).register(routes)
    OpenAPIController(path: configuration.openAPIPath).register(routes)
    table.record(router.routes)
    // The console is not part of the API document, so its routes stay out of the route table.
    if let renderer = try? ConsoleRenderer.load(), let forms = try? FormTokens(keys: store.keys) {
        ConsoleController(store: store, auth: auth, hasher: dependencies.hasher, authenticator: authenticator, sessions: sessions, loginLimiter: loginLimiter,
                          renderer: renderer, forms: forms, trustedProxies: configuration.trustedProxies,
                          webhookSettings: configuration.webhooks).register(router)
    } else {
        store.logger.error("the console's resources did not load; only the JSON API is served")
    }
    return router
}
