import Foundation

public struct Organisation: Sendable, Equatable, Codable {
    public var id: UUID
    public var name: String
    public var type: OrganisationType
    public var country: String
    public var region: String?
    public var mandate: Mandate
    public var active: Bool
    public var version: Int

    public init(id: UUID, name: String, type: OrganisationType, country: String, region: String?, mandate: Mandate, active: Bool, version: Int) {
        self.id = id
        self.name = name
        self.type = type
        self.country = country
        self.region = region
        self.mandate = mandate
        self.active = active
        self.version = version
    }
}

public struct User: Sendable, Equatable, Codable {
    public var id: UUID
    public var organisationID: UUID
    public var role: Role
    public var username: String
    public var displayName: String?
    public var active: Bool
    public var hasSecondFactor: Bool
    public var lockedUntil: Date?
    public var passwordMustChange: Bool
    public var createdAt: Date
    public var version: Int

    public init(id: UUID, organisationID: UUID, role: Role, username: String, displayName: String?, active: Bool,
                hasSecondFactor: Bool, lockedUntil: Date?, passwordMustChange: Bool, createdAt: Date, version: Int) {
        self.id = id
        self.organisationID = organisationID
        self.role = role
        self.username = username
        self.displayName = displayName
        self.active = active
        self.hasSecondFactor = hasSecondFactor
        self.lockedUntil = lockedUntil
        self.passwordMustChange = passwordMustChange
        self.createdAt = createdAt
        self.version = version
    }

    public var actor: Actor { Actor(userID: id, organisationID: organisationID, role: role) }
}

/// Usernames: lower-case letters, digits, `.`, `_`, `-`; 3–64 characters, starting with a
/// letter or digit. Never an e-mail address or a real name is needed.
public enum Username {
    public static func violation(_ username: String) -> String? {
        let bytes = Array(username.utf8)
        guard (3...64).contains(bytes.count) else { return "must be 3-64 characters" }
        func allowed(_ c: UInt8) -> Bool { (c >= 0x61 && c <= 0x7A) || (c >= 0x30 && c <= 0x39) || c == 0x2E || c == 0x5F || c == 0x2D }
        guard bytes.allSatisfy(allowed), let first = bytes.first, first != 0x2E, first != 0x5F, first != 0x2D else {
            return "must use only a-z, 0-9, '.', '_' and '-', starting with a letter or digit"
        }
        return nil
    }
}

/// Account lockout (S4): so many failures within a window lock the account for a while.
public struct LockoutPolicy: Sendable {
    public var threshold: Int
    public var window: TimeInterval
    public var duration: TimeInterval

    public init(threshold: Int = 5, window: TimeInterval = 900, duration: TimeInterval = 900) {
        self.threshold = threshold
        self.window = window
        self.duration = duration
    }

    public struct State: Sendable, Equatable {
        public var failures: Int
        public var firstFailure: Date?
        public var lockedUntil: Date?

        public init(failures: Int, firstFailure: Date?, lockedUntil: Date?) {
            self.failures = failures
            self.firstFailure = firstFailure
            self.lockedUntil = lockedUntil
        }
    }

    public func isLocked(_ state: State, now: Date) -> Bool {
        if let lockedUntil = state.lockedUntil { return lockedUntil > now }
        return false
    }

    /// The state after one more failed attempt at `now`.
    public func afterFailure(_ state: State, now: Date) -> State {
        var next = state
        if let first = state.firstFailure, now.timeIntervalSince(first) <= window, state.failures > 0 {
            next.failures += 1
        } else {
            next.failures = 1
            next.firstFailure = now
        }
        if next.failures >= threshold {
            next.lockedUntil = now.addingTimeInterval(duration)
            next.failures = 0
            next.firstFailure = nil
        }
        return next
    }
}
