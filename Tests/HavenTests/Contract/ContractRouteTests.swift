import Foundation
import HavenAPI
import HavenStore
import HavenCore
import HTTPTypes
import Testing

/// The document lists exactly the routes the application registers, and the application serves
/// the document.
@Suite("Contract: routes and the served document")
struct ContractRouteTests {
    @Test("openapi.yaml is valid enough to use: OpenAPI 3.1, every $ref resolves, every operation has a success answer")
    func documentIsWellFormed() throws {
        let document = try OpenAPIDocument.load()
        #expect(document.root["openapi"]?.stringValue?.hasPrefix("3.1") == true, "openapi must be 3.1.x")
        var unresolved: Set<String> = []
        func walk(_ node: ContractJSON) {
            switch node {
            case .object(let members):
                if let reference = members["$ref"]?.stringValue, document.validator.resolve(reference) == nil { unresolved.insert(reference) }
                members.values.forEach(walk)
            case .array(let values):
                values.forEach(walk)
            default:
                break
            }
        }
        walk(document.root)
        #expect(unresolved.isEmpty, "unresolvable references: \(unresolved.sorted())")
        for operation in document.operations {
            #expect(!document.successStatuses(operation).isEmpty, "\(operation) documents no 2xx answer")
            let id = document.object(operation)?["operationId"]?.stringValue
            #expect(id?.isEmpty == false, "\(operation) has no operationId")
        }
        let ids = document.operations.compactMap { document.object($0)?["operationId"]?.stringValue }
        #expect(Set(ids).count == ids.count, "operationIds are not unique")
    }

    @Test("the (method, path) pairs in openapi.yaml are exactly the routes the application registers")
    func documentedRoutesMatchRegisteredRoutes() async throws {
        let document = try OpenAPIDocument.load()
        let registered = try await TestApp.run { app, _ in
            let dependencies = HavenDependencies(store: app.store, schema: DatabaseSchema(try TestSchema.migrator()), hasher: app.credentials)
            return routeList(configuration: app.configuration, dependencies: dependencies).map { "\($0.method) \($0.path)" }
        }
        let implemented = Set(registered.filter { !$0.hasPrefix("HEAD ") })
        let documented = Set(document.operations.map(\.description))
        #expect(registered.count == Set(registered).count, "a route is registered twice: \(registered.sorted())")
        let undocumented = implemented.subtracting(documented).sorted()
        let unimplemented = documented.subtracting(implemented).sorted()
        #expect(undocumented.isEmpty, "routes the application serves that openapi.yaml does not document: \(undocumented)")
        #expect(unimplemented.isEmpty, "operations openapi.yaml documents that the application does not serve: \(unimplemented)")
    }

    @Test("operations the document secures answer 401 without a token; open ones do not ask for one")
    func securityAsDocumented() async throws {
        let document = try OpenAPIDocument.load()
        let checker = ContractChecker(document: document)
        let configuration = AppConfiguration(host: "127.0.0.1", port: 0, openAPIPath: OpenAPIDocument.path)
        try await TestApp.run(configuration: configuration) { _, client in
            let api = ContractClient(client: client, checker: checker)
            for operation in document.operations {
                let path = operation.path.split(separator: "/").map { $0.hasPrefix("{") ? UUID().uuidString : String($0) }.joined(separator: "/")
                let method = HTTPRequest.Method(operation.method)!
                let response = try await api.call(method, "/" + path)
                if document.isOpen(operation) {
                    #expect(response.status != .unauthorized, "\(operation) is documented as open but asked for a token")
                } else {
                    #expect(response.status == .unauthorized, "\(operation) is documented as needing a bearer token but answered \(response.status.code)")
                    #expect(response.headers[.wwwAuthenticate] == "Bearer", "\(operation): 401 without WWW-Authenticate: Bearer")
                }
            }
        }
    }

    @Test("every operation that needs a token documents the 429 an address sending too many rejected tokens is answered")
    func rejectedTokenFloodIsDocumented() async throws {
        let document = try OpenAPIDocument.load()
        let checker = ContractChecker(document: document)
        let configuration = AppConfiguration.heldBack(perMinute: 1, openAPIPath: OpenAPIDocument.path)
        try await TestApp.run(configuration: configuration) { _, client in
            let api = ContractClient(client: client, checker: checker)
            let token = "not-a-token-" + UUID().uuidString
            try await api.call(.get, "/v1/me", token: token)
            for operation in document.operations where !document.isOpen(operation) {
                let path = operation.path.split(separator: "/").map { $0.hasPrefix("{") ? UUID().uuidString : String($0) }.joined(separator: "/")
                let method = try #require(HTTPRequest.Method(operation.method))
                let response = try await api.call(method, "/" + path, token: token)
                #expect(response.status == .tooManyRequests, "\(operation) answered \(response.status.code) to a held-back address")
            }
        }
    }

    @Test("GET /openapi.yaml serves Schema/openapi.yaml")
    func servesTheDocument() async throws {
        let path = OpenAPIDocument.path
        let onDisk = try #require(FileManager.default.contents(atPath: path))
        let configuration = AppConfiguration(host: "127.0.0.1", port: 0, openAPIPath: path)
        let document = try OpenAPIDocument.load()
        let checker = ContractChecker(document: document)
        try await TestApp.run(configuration: configuration) { _, client in
            let api = ContractClient(client: client, checker: checker)
            let response = try await api.call(.get, "/openapi.yaml", expect: .ok)
            #expect(response.headers[.contentType]?.hasPrefix("application/yaml") == true)
            #expect(Data(response.text.utf8) == onDisk, "the served document differs from \(path)")
        }
        // Without a configured path the route still exists and answers the documented 404.
        try await TestApp.run { _, client in
            let api = ContractClient(client: client, checker: checker)
            try await api.call(.get, "/openapi.yaml", expect: .notFound)
        }
    }
}
