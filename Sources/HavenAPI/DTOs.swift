import Foundation
import Hummingbird
import HavenCore
import HavenServices
import HavenStore

/// A page of a list: `items` and the cursor for the next page (null on the last).
struct ListResponse<Item: Encodable & Sendable>: Encodable, Sendable {
    var items: [Item]
    var nextCursor: String?

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(items, forKey: .items)
        try container.encode(nextCursor, forKey: .nextCursor)
    }

    enum CodingKeys: String, CodingKey { case items, nextCursor }

    init(items: [Item], nextCursor: String?) {
        self.items = items
        self.nextCursor = nextCursor
    }

    init<Source>(_ page: Page<Source>, _ transform: (Source) throws -> Item) rethrows {
        self.items = try page.items.map(transform)
        self.nextCursor = page.nextCursor
    }
}

struct UserDTO: Encodable, Sendable {
    var id: UUID
    var organisationId: UUID
    var role: Role
    var username: String
    var displayName: String?
    var active: Bool
    var hasSecondFactor: Bool
    var lockedUntil: Date?
    var passwordMustChange: Bool
    var createdAt: Date
    var version: Int

    init(_ user: User) {
        id = user.id
        organisationId = user.organisationID
        role = user.role
        username = user.username
        displayName = user.displayName
        active = user.active
        hasSecondFactor = user.hasSecondFactor
        lockedUntil = user.lockedUntil
        passwordMustChange = user.passwordMustChange
        createdAt = user.createdAt
        version = user.version
    }
}

/// A user as just created or changed. Never a second factor's secret: the user enrols their
/// own authenticator at their first login.
struct UserCreatedDTO: Encodable, Sendable {
    var user: UserDTO
}

/// Query parameters shared by lists.
struct ListQuery {
    var limit: Int
    var cursor: String?

    init(_ request: Request, defaultLimit: Int = 50, maxLimit: Int = 200) throws {
        let query = request.uri.queryParameters
        if let text = query.get("limit") {
            guard let value = Int(text), (1...maxLimit).contains(value) else {
                throw APIError.badRequest("limit", "must be a whole number from 1 to \(maxLimit)")
            }
            limit = value
        } else {
            limit = defaultLimit
        }
        cursor = query.get("cursor").map { String($0) }
    }

    var page: PageRequest { PageRequest(cursor: cursor, limit: limit) }

    func auditDetail(filters: [String], sort: String? = nil) -> [String: AuditDetail] {
        page.auditDetail(filters: filters, sort: sort)
    }
}

extension Request {
    /// A UUID path parameter; a malformed one is simply not found (404), as any unknown id.
    func uuidParameter(_ name: String, _ context: HavenRequestContext) throws -> UUID {
        guard let text = context.parameters.get(name), let id = UUID(text: text) else {
            throw APIError.notFound()
        }
        return id
    }

    func queryUUID(_ name: String) throws -> UUID? {
        guard let text = uri.queryParameters.get(name) else { return nil }
        guard let id = UUID(text: text) else { throw APIError.badRequest(name, "must be a UUID") }
        return id
    }

    func queryEnum<T: ClosedSet>(_ name: String, _ type: T.Type) throws -> T? {
        guard let text = uri.queryParameters.get(name) else { return nil }
        guard let value = T(rawValue: String(text)) else { throw APIError.badRequest(name, "must be one of: \(T.allowedValues)") }
        return value
    }

    func queryDate(_ name: String) throws -> Date? {
        guard let text = uri.queryParameters.get(name) else { return nil }
        guard let date = Timestamps.parse(String(text)) else { throw APIError.badRequest(name, Timestamps.expected) }
        return date
    }

    func queryString(_ name: String, max: Int = 100) throws -> String? {
        guard let text = uri.queryParameters.get(name) else { return nil }
        guard text.count <= max else { throw APIError.badRequest(name, "must be at most \(max) characters") }
        guard !text.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else {
            throw APIError.badRequest(name, "must not contain control characters")
        }
        return String(text)
    }
}

extension HavenRequestContext {
    /// The access context a store transaction runs as.
    var access: AccessContext {
        AccessContext(principal: actor.map { .user($0) } ?? .anonymous, requestID: requestID, clientAddress: clientAddress)
    }
}
