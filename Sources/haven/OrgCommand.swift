import ArgumentParser
import Foundation
import HavenCore
import HavenStore

struct OrgCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "org", abstract: "Manage organisations.", subcommands: [OrgCreateCommand.self])
}

struct OrgCreateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create",
        abstract: "Create an organisation and print its id.",
        discussion: "Types: \(OrganisationType.allCases.map(\.rawValue).joined(separator: ", ")). Service types: \(ServiceType.allCases.map(\.rawValue).joined(separator: ", "))."
    )

    @Option(help: "Name, unique ignoring case.") var name: String
    @Option(help: "Organisation type.") var type: String
    @Option(help: "ISO 3166-1 alpha-2 country code, e.g. MD.") var country: String
    @Option(help: "Region within the country.") var region: String?
    @Option(help: "Comma-separated service types the organisation provides.") var serviceTypes: String?
    @Option(help: "Comma-separated regions it covers (none: the whole country).") var regionsCovered: String?
    @OptionGroup var database: DatabaseOptions

    func run() async throws {
        guard let type = OrganisationType(rawValue: type) else {
            throw ValidationError("--type must be one of \(OrganisationType.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        var services: [ServiceType] = []
        for name in (serviceTypes ?? "").split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !name.isEmpty {
            guard let service = ServiceType(rawValue: name) else {
                throw ValidationError("--service-types: \(name) is not one of \(ServiceType.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            services.append(service)
        }
        let regions = regionsCovered?.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } ?? []
        let draft = OrganisationDraft(
            name: name, type: type, country: country.uppercased(), region: region,
            mandate: Mandate(serviceTypes: services, regions: regions))
        do {
            try draft.validate()
        } catch let failure as ValidationFailure {
            throw ValidationError(failure.errors.map { "--\($0.field.replacingOccurrences(of: "_", with: "-")) \($0.reason)" }.joined(separator: "; "))
        }
        let organisation = try await OperatorSession.with(database) { session in
            try await session.store.transaction(.system) { transaction in
                let organisation = try OrganisationStore.create(draft, on: transaction.connection)
                try transaction.audit(.create, .organisationCreate, entityKind: .organisation, entityID: organisation.id.lowercasedString,
                                      subjectOrganisation: organisation.id, purpose: .administration, detail: ["via": "cli"])
                return organisation
            }
        }
        print(organisation.id.lowercasedString)
    }
}
