import Foundation
import HavenAPI
import HavenCore
import HavenStore
import HTTPTypes
import HummingbirdTesting
import Testing

/// `/v1/organisations/{id}/webhooks`: the administrator's; the secret is shown once; a URL into
/// the deployment's own network is refused at registration.
@Suite struct WebhookAPITests {
    struct Body: Encodable {
        var url: String?
        var kinds: [String]?
    }

    @Test func theAdministratorRegistersListsRotatesAndDeletes() async throws {
        try await TestApp.run { app, client in
            let (_, token) = try await app.admin(client)
            let partner = try await app.organisation("Partner \(UUID().uuidString.prefix(6))")
            let base = "/v1/organisations/\(partner.id.lowercasedString)/webhooks"
            let create = try await client.send(.post, base, token: token,
                                               json: Body(url: "https://partner.example.org/haven?token=t1", kinds: ["referral.arrived", "case.transferred"]))
            #expect(create.status == .created, "\(create.text)")
            let created = try create.json()
            let id = try #require(created["id"] as? String)
            let secret = try #require(created["secret"] as? String)
            #expect(secret.hasPrefix("whsec_"))
            #expect(created["kinds"] as? [String] == ["case.transferred", "referral.arrived"])
            #expect(create.headers[.location] == "/v1/organisations/\(partner.id.uuidString)/webhooks/\(id)")

            // Listed without its secret, and the secret is sealed at rest.
            let list = try await client.send(.get, base, token: token)
            let items = try list.jsonArray()
            #expect(items.count == 1 && items[0]["id"] as? String == id && items[0]["secret"] == nil)
            let stored = try app.ownerRows("SELECT encode(secret_sealed, 'escape') FROM webhook_subscription WHERE id = $1::uuid", [id])
            #expect(stored.count == 1 && !(stored[0][0] ?? "").contains(String(secret.dropFirst(6).prefix(12))))

            let rotate = try await client.send(.post, "\(base)/\(id)/rotate", token: token)
            #expect(rotate.status == .ok, "\(rotate.text)")
            let rotated = try rotate.json()
            let newSecret = try #require(rotated["secret"] as? String)
            #expect(newSecret != secret && rotated["previous_secret_valid_until"] != nil)

            let dead = try await client.send(.get, "\(base)/\(id)/dead-letters", token: token)
            #expect(dead.status == .ok, "\(dead.text)")
            #expect(try dead.jsonArray().isEmpty)
            let replay = try await client.send(.post, "\(base)/\(id)/dead-letters/\(UUID().uuidString)/replay", token: token)
            expectProblem(replay, .notFound)

            let delete = try await client.send(.delete, "\(base)/\(id)", token: token)
            #expect(delete.status == .noContent, "\(delete.text)")
            expectProblem(try await client.send(.delete, "\(base)/\(id)", token: token), .notFound)
            expectProblem(try await client.send(.post, "\(base)/\(id)/rotate", token: token), .notFound)
            let emptied = try await client.send(.get, base, token: token)
            #expect(try emptied.jsonArray().isEmpty)

            for subtype in ["webhook.create", "webhook.rotate", "webhook.delete"] {
                #expect(try app.count("audit_event", where: "subtype = $1 AND entity_id = lower($2)", [subtype, id]) == 1, "\(subtype)")
            }
            // No audit event carries the secret or the URL.
            for text in try app.auditRowTexts() {
                #expect(!text.contains(secret) && !text.contains(newSecret) && !text.contains("partner.example.org"))
            }
        }
    }

    @Test(arguments: ["http://partner.example.org/hook", "https://127.0.0.1/hook", "https://10.1.2.3/hook", "https://169.254.169.254/latest",
                      "https://[::1]/hook", "https://[fd00::5]/hook", "https://100.64.1.1/", "https://localhost:8443/", "https://2130706433/",
                      "https://user:secret@partner.example.org/"])
    func aURLOutsideThePublicInternetIsRefusedNamingTheField(url: String) async throws {
        try await TestApp.run { app, client in
            let (_, token) = try await app.admin(client)
            let partner = try await app.organisation()
            let answer = try await client.send(.post, "/v1/organisations/\(partner.id.lowercasedString)/webhooks", token: token,
                                               json: Body(url: url, kinds: ["referral.arrived"]))
            expectProblem(answer, .unprocessableContent, field: "url")
            #expect(try app.count("webhook_subscription") == 0)
        }
    }

    @Test func unknownKindsAndMissingFieldsAreNamed() async throws {
        try await TestApp.run { app, client in
            let (_, token) = try await app.admin(client)
            let partner = try await app.organisation()
            let base = "/v1/organisations/\(partner.id.lowercasedString)/webhooks"
            expectProblem(try await client.send(.post, base, token: token, json: Body(url: "https://partner.example.org/", kinds: ["case.read"])),
                          .unprocessableContent, field: "kinds/0")
            expectProblem(try await client.send(.post, base, token: token, json: Body(url: "https://partner.example.org/", kinds: [String]())),
                          .unprocessableContent, field: "kinds")
            expectProblem(try await client.send(.post, base, token: token, json: Body(url: nil, kinds: ["referral.arrived"])), .unprocessableContent, field: "url")
            expectProblem(try await client.send(.get, "/v1/organisations/\(UUID().uuidString)/webhooks", token: token), .notFound)
        }
    }

    @Test(arguments: [Role.supervisor, .caseworker, .partner, .auditor])
    func onlyTheAdministratorManagesWebhooks(role: Role) async throws {
        try await TestApp.run { app, client in
            let own = try await app.organisation()
            let (_, token) = try await app.loggedIn(role, in: own.id, client)
            let base = "/v1/organisations/\(own.id.lowercasedString)/webhooks"
            expectProblem(try await client.send(.get, base, token: token), .forbidden)
            expectProblem(try await client.send(.post, base, token: token, json: Body(url: "https://partner.example.org/", kinds: ["referral.arrived"])),
                          .forbidden)
            #expect(try app.count("webhook_subscription") == 0)
            #expect(try app.count("audit_event", where: "subtype = 'access.denied' AND entity_kind = 'webhook'") >= 1)
        }
    }
}
