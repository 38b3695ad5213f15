import Foundation
import HavenAPI
import HavenCore
import HavenDev
import HavenStore
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Postgres
import Sealing

/// A Haven application on a fresh test database, with helpers to make organisations and users
/// and to log them in.
struct TestApp: Sendable {
    let database: TestDatabase
    let store: Store
    let credentials: Credentials
    let configuration: AppConfiguration

    static let logger: Logger = {
        var logger = Logger(label: "haven.tests")
        logger.logLevel = .error
        return logger
    }()

    /// Runs `body` with the app served through HummingbirdTesting (`.router` by default, or
    /// `.live` for a real TCP server).
    static func run<T: Sendable>(
        _ setup: TestingSetup = .router, configuration: AppConfiguration = .init(host: "127.0.0.1", port: 0), poolSize: Int = 4,
        _ body: @Sendable @escaping (TestApp, any TestClientProtocol) async throws -> T
    ) async throws -> T {
        try await withTestDatabase { database in
            let pool = try database.pool(size: poolSize)
            let store = try Store(pool: pool, keys: TestKeys.ring, logger: logger)
            let credentials = Credentials.fast()
            let testApp = TestApp(database: database, store: store, credentials: credentials, configuration: configuration)
            let application = buildApplication(
                configuration: configuration,
                dependencies: HavenDependencies(store: store, schema: DatabaseSchema(try TestSchema.migrator()), hasher: credentials),
                logger: logger)
            do {
                let value = try await application.test(setup) { client in try await body(testApp, client) }
                await pool.close()
                await credentials.shutdown()
                return value
            } catch {
                await pool.close()
                await credentials.shutdown()
                throw error
            }
        }
    }

    // MARK: Fixtures

    struct TestUser: Sendable {
        var user: User
        var password: String
        var totpSecret: [UInt8]?
        var recoveryCodes: [String] = []
        var actor: Actor { user.actor }
        var id: UUID { user.id }
        var organisationID: UUID { user.organisationID }
    }

    func organisation(
        _ name: String = "Org \(UUID().uuidString.prefix(8))", type: OrganisationType = .ngo, country: String = "MD",
        services: [ServiceType] = [], regions: [String] = [], acceptsReferrals: Bool = true
    ) async throws -> Organisation {
        let draft = OrganisationDraft(name: name, type: type, country: country,
                                      mandate: Mandate(serviceTypes: services, regions: regions, acceptsReferrals: acceptsReferrals))
        return try await store.transaction(.system) { try OrganisationStore.create(draft, on: $0.connection) }
    }

    /// A user with their own password; one whose role needs a second factor has enrolled one
    /// already (as at their first login), unless `enrolled` is false.
    func user(_ role: Role, in organisation: UUID, username: String? = nil, password: String = "synthetic-pass-\(UUID().uuidString.prefix(6))",
              enrolled: Bool = true) async throws -> TestUser {
        let name = username ?? "\(role.rawValue)-\(UUID().uuidString.prefix(8).lowercased())"
        let hash = try await credentials.hash(password)
        let keys = store.keys
        let draft = UserDraft(organisationId: organisation, role: role, username: name, password: password)
        let secret = role.requiresSecondFactor && enrolled ? try TOTP.generateSecret() : nil
        let (user, codes) = try await store.transaction(.system) { transaction in
            var user = try UserStore.create(draft, passwordHash: hash, mustChangePassword: false, on: transaction.connection)
            guard let secret else { return (user, [String]()) }
            let codes = try SecondFactorStore.install(user.id, secret: secret, lastStep: nil, keys: keys, on: transaction.connection)
            user = try UserStore.find(user.id, on: transaction.connection) ?? user
            return (user, codes)
        }
        return TestUser(user: user, password: password, totpSecret: secret, recoveryCodes: codes)
    }

    /// The current TOTP code for a user (RFC 6238, 30 s steps), `offset` steps ahead.
    static func totp(_ user: TestUser, offset: Int64 = 0) -> String? {
        guard let secret = user.totpSecret else { return nil }
        return TOTP(secret: secret).code(at: Int64(Date().timeIntervalSince1970) + 30 * offset)
    }

    /// Logs in and returns the bearer token. A TOTP step is good once, so a second login in the
    /// same 30 s uses the next step (accepted as clock drift).
    func login(_ client: any TestClientProtocol, _ user: TestUser) async throws -> String {
        for offset: Int64 in [0, 1] {
            var body: [String: String] = ["username": user.user.username, "password": user.password]
            if let code = TestApp.totp(user, offset: offset) { body["totp"] = code }
            let response = try await client.send(.post, "/v1/auth/login", json: body)
            if response.status == .ok, let token = try response.json()["token"] as? String { return token }
        }
        throw TestFailure("login failed for \(user.user.username)")
    }
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

extension TestClientProtocol {
    /// Sends a request with an optional JSON body and bearer token.
    func send(
        _ method: HTTPRequest.Method, _ uri: String, token: String? = nil, json: (any Encodable)? = nil,
        headers extra: HTTPFields = [:]
    ) async throws -> TestResponse {
        var headers = extra
        if let token { headers[.authorization] = "Bearer \(token)" }
        var body: ByteBuffer?
        if let json {
            let encoder = JSONEncoder()
            encoder.dateEncodingStrategy = .iso8601
            body = ByteBuffer(bytes: try encoder.encode(json))
            if headers[.contentType] == nil { headers[.contentType] = "application/json" }
        }
        return try await executeRequest(uri: uri, method: method, headers: headers, body: body)
    }

    /// Sends raw bytes with the given content type.
    func sendRaw(_ method: HTTPRequest.Method, _ uri: String, token: String? = nil, body: String, contentType: String?) async throws -> TestResponse {
        var headers: HTTPFields = [:]
        if let token { headers[.authorization] = "Bearer \(token)" }
        if let contentType { headers[.contentType] = contentType }
        return try await executeRequest(uri: uri, method: method, headers: headers, body: ByteBuffer(string: body))
    }
}

extension TestResponse {
    /// The body as a JSON object (empty when it is not one).
    func json() throws -> [String: Any] {
        (try JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: Any]) ?? [:]
    }

    func jsonArray(_ key: String = "items") throws -> [[String: Any]] {
        (try json()[key] as? [[String: Any]]) ?? []
    }

    var text: String { String(buffer: body) }

    /// The fields a problem+json answer names.
    var problemFields: [String] {
        let errors = ((try? json())?["errors"] as? [[String: Any]]) ?? []
        return errors.compactMap { $0["field"] as? String }
    }

    var isProblem: Bool { headers[.contentType] == "application/problem+json" }
}
