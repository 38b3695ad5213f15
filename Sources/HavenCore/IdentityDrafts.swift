import Foundation

/// A new organisation as an admin describes it.
public struct OrganisationDraft: Sendable, Codable, Equatable {
    public var name: String
    public var type: OrganisationType
    public var country: String
    public var region: String?
    public var mandate: Mandate?

    public init(name: String, type: OrganisationType, country: String, region: String? = nil, mandate: Mandate? = nil) {
        self.name = name
        self.type = type
        self.country = country
        self.region = region
        self.mandate = mandate
    }

    public func validate() throws {
        var check = Validator()
        check.text(name, "name", required: true, max: 200)
        check.countryCode(country, "country", required: true)
        check.text(region, "region", max: 100)
        mandate?.validate(&check)
        try check.finish()
    }
}

/// Changes to an organisation; absent fields stay as they are; a mandate replaces the old one.
public struct OrganisationPatch: Sendable, Codable, Equatable {
    public var name: String?
    public var type: OrganisationType?
    public var country: String?
    public var region: String?
    public var mandate: Mandate?
    public var active: Bool?

    public init(name: String? = nil, type: OrganisationType? = nil, country: String? = nil, region: String? = nil, mandate: Mandate? = nil, active: Bool? = nil) {
        self.name = name
        self.type = type
        self.country = country
        self.region = region
        self.mandate = mandate
        self.active = active
    }

    public func validate() throws {
        var check = Validator()
        if let name { check.text(name, "name", required: true, max: 200) }
        check.countryCode(country, "country")
        check.text(region, "region", max: 100)
        mandate?.validate(&check)
        try check.finish()
    }

    /// The fields this patch would change on `organisation`: what the audit names, and nothing
    /// at all means no new version.
    public func changes(to organisation: Organisation) -> [String] {
        var fields: [String] = []
        if let name, name != organisation.name { fields.append("name") }
        if let type, type != organisation.type { fields.append("type") }
        if let country, country != organisation.country { fields.append("country") }
        if let region, region != organisation.region { fields.append("region") }
        if let mandate, mandate != organisation.mandate { fields.append("mandate") }
        if let active, active != organisation.active { fields.append("active") }
        return fields
    }
}

/// A new user as an admin (or the operator CLI) creates them.
public struct UserDraft: Sendable, Codable, Equatable {
    public var organisationId: UUID
    public var role: Role
    public var username: String
    public var displayName: String?
    public var password: String

    public init(organisationId: UUID, role: Role, username: String, displayName: String? = nil, password: String) {
        self.organisationId = organisationId
        self.role = role
        self.username = username
        self.displayName = displayName
        self.password = password
    }

    public func validate() throws {
        var check = Validator()
        if let problem = Username.violation(username) { check.add("username", problem) }
        check.text(displayName, "display_name", max: 200)
        if let problem = PasswordPolicy.violation(password, username: username) { check.add("password", problem) }
        try check.finish()
    }
}

/// Changes to a user: role, active flag, display name, or a password reset.
public struct UserPatch: Sendable, Codable, Equatable {
    public var role: Role?
    public var active: Bool?
    public var displayName: String?
    /// A new password set by an admin; the user must change it at next login.
    public var password: String?

    public init(role: Role? = nil, active: Bool? = nil, displayName: String? = nil, password: String? = nil) {
        self.role = role
        self.active = active
        self.displayName = displayName
        self.password = password
    }

    public func validate(username: String) throws {
        var check = Validator()
        check.text(displayName, "display_name", max: 200)
        if let password, let problem = PasswordPolicy.violation(password, username: username) { check.add("password", problem) }
        try check.finish()
    }

    /// The fields this patch would change on `user`: what the audit names, and nothing at all
    /// means no new version. A password is always a change (a reset, whatever it was).
    public func changes(to user: User) -> [String] {
        var fields: [String] = []
        if let role, role != user.role { fields.append("role") }
        if let active, active != user.active { fields.append("active") }
        if let displayName, displayName != user.displayName { fields.append("display_name") }
        if password != nil { fields.append("password") }
        return fields
    }
}
