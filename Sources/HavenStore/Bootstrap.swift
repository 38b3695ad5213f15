import Foundation
import HavenCore
import Postgres
import Sealing

/// The first admin of an empty database: created once, its one-time password shown once to the
/// operator who started Haven. The admin enrols their authenticator at that first login.
public enum Bootstrap {
    public struct Admin: Sendable {
        public var username: String
        public var password: String
    }

    static let lockKey: Int64 = 0x4861_7665_6E42_6F6F

    /// Creates the bootstrap organisation and admin when there is no user at all; nil otherwise.
    public static func ensureAdmin(store: Store, hasher: Credentials, country: String = "MD") async throws -> Admin? {
        let empty = try await store.withConnection { try UserStore.count(on: $0) == 0 }
        guard empty else { return nil }
        let password = try generatePassword()
        let hash = try await hasher.hash(password)
        return try await store.transaction(.system) { transaction in
            let connection = transaction.connection
            // Two instances starting at once: one creates, the other finds a user and stops.
            try connection.query("SELECT pg_advisory_xact_lock($1)", [lockKey])
            guard try UserStore.count(on: connection) == 0 else { return nil }
            let organisation = try OrganisationFinder.findOrCreateAdministration(country: country, on: connection)
            let draft = UserDraft(organisationId: organisation, role: .admin, username: "admin", displayName: "Bootstrap administrator", password: password)
            let user = try UserStore.create(draft, passwordHash: hash, mustChangePassword: true, on: connection)
            try transaction.audit(AuditEvent(
                recorded: Date(), action: .create, subtype: .userCreate, entityKind: .user, entityID: user.id.lowercasedString,
                subjectOrganisation: organisation, purpose: .administration, detail: ["role": "admin", "bootstrap": true]))
            return Admin(username: "admin", password: password)
        }
    }

    /// 20 characters from an alphabet without look-alikes: about 115 bits.
    static func generatePassword() throws -> String {
        let alphabet = Array("abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789")
        var output = ""
        while output.count < 20 {
            for byte in try SecureRandom.bytes(32) where Int(byte) < 256 - 256 % alphabet.count {
                output.append(alphabet[Int(byte) % alphabet.count])
                if output.count == 20 { break }
            }
        }
        return output
    }
}

enum OrganisationFinder {
    static func findOrCreateAdministration(country: String, on connection: PGConnection) throws -> UUID {
        if let existing = try OrganisationStore.find(idOrName: "Haven administration", on: connection) { return existing.id }
        let draft = OrganisationDraft(name: "Haven administration", type: .government, country: country, mandate: Mandate(acceptsReferrals: false))
        return try OrganisationStore.create(draft, on: connection).id
    }
}
