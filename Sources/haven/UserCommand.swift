import ArgumentParser
import Foundation
import HavenCore
import HavenStore
import Postgres

struct UserCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "user", abstract: "Manage users.", subcommands: [UserCreateCommand.self, UserResetSecondFactorCommand.self])
}

struct UserCreateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create",
        abstract: "Create a user. Roles that need a second factor enrol their authenticator at their first login.",
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
        let user = try await OperatorSession.with(database) { session in
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
            return try await session.store.transaction(.system) { transaction in
                let created = try UserStore.create(draft, passwordHash: hash, mustChangePassword: false, on: transaction.connection)
                try transaction.audit(.create, .userCreate, entityKind: .user, entityID: created.id.lowercasedString,
                                      subjectOrganisation: organisation.id, purpose: .administration,
                                      detail: ["via": "cli", "role": .string(role.rawValue)])
                return created
            }
        }
        print(user.id.lowercasedString)
        if role.requiresSecondFactor {
            Console.write("\(user.username) enrols an authenticator app at their first login; no secret is printed here.")
        }
    }
}

struct UserResetSecondFactorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reset-second-factor",
        abstract: "Clear a user's second factor and end their sessions: they enrol a new authenticator at their next login.",
        discussion: "For a user who lost their authenticator and their recovery codes, when no administrator can log in to do it."
    )

    @Option(help: "The user's username.") var username: String
    @OptionGroup var database: DatabaseOptions

    func run() async throws {
        let username = self.username.lowercased()
        try await OperatorSession.with(database) { session in
            try await session.store.transaction(.system) { transaction in
                guard let id: UUID = try transaction.connection.query("SELECT id FROM app_user WHERE username = $1", [username]).first?.decode(at: 0),
                      let user = try UserStore.find(id, on: transaction.connection)
                else { throw ValidationError("--username: no such user") }
                _ = try SecondFactorStore.reset(id, on: transaction.connection)
                try transaction.audit(.update, .userSecondFactorReset, entityKind: .user, entityID: id.lowercasedString,
                                      subjectOrganisation: user.organisationID, purpose: .administration, detail: ["via": "cli"])
            }
        }
        Console.write("\(username) enrols a new authenticator at their next login.")
    }
}
