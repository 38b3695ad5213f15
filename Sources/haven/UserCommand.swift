import ArgumentParser
import Foundation
import HavenCore
import HavenStore
import Sealing

struct UserCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "user", abstract: "Manage users.", subcommands: [UserCreateCommand.self])
}

struct UserCreateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create",
        abstract: "Create a user; for supervisors and admins, print the TOTP enrolment URI once.",
        discussion: "Roles: \(Role.allCases.map(\.rawValue).joined(separator: ", ")). The password is read from standard input, never from the command line."
    )

    @Option(help: "The organisation's id or its unique name.") var org: String
    @Option(help: "Role.") var role: String
    @Option(help: "Username: a-z, 0-9, '.', '_', '-'.") var username: String
    @Option(help: "Display name.") var displayName: String?
    @Flag(help: "Read the password from standard input (required).") var passwordStdin = false
    @OptionGroup var database: DatabaseOptions

    func run() async throws {
        guard passwordStdin else { throw ValidationError("pass --password-stdin and send the password on standard input") }
        guard let role = Role(rawValue: role) else {
            throw ValidationError("--role must be one of \(Role.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard let line = readLine(strippingNewline: true), !line.isEmpty else {
            throw ValidationError("no password on standard input")
        }
        let username = self.username.lowercased()
        let org = self.org
        let displayName = self.displayName
        let (user, secret) = try await OperatorSession.with(database) { session in
            guard let organisation = try await session.store.withConnection({ try OrganisationStore.find(idOrName: org, on: $0) }) else {
                throw ValidationError("--org: no organisation with that id or name")
            }
            let draft = UserDraft(organisationId: organisation.id, role: role, username: username, displayName: displayName, password: line)
            do {
                try draft.validate()
            } catch let failure as ValidationFailure {
                throw ValidationError(failure.errors.map { "\($0.field) \($0.reason)" }.joined(separator: "; "))
            }
            let hasher = Credentials()
            let hash = try await hasher.hash(line)
            await hasher.shutdown()
            let keys = session.store.keys
            return try await session.store.transaction(.system) { transaction in
                let created = try UserStore.create(draft, passwordHash: hash, mustChangePassword: false, keys: keys, on: transaction.connection)
                try transaction.audit(.create, "user.create", entityKind: "user", entityID: created.user.id.lowercasedString,
                                      subjectOrganisation: organisation.id, purpose: .administration,
                                      detail: ["via": "cli", "role": .string(role.rawValue)])
                return created
            }
        }
        print(user.id.lowercasedString)
        if let secret {
            print(TOTP(secret: secret).provisioningURI(issuer: "Haven", account: user.username))
        }
    }
}
