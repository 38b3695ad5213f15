import Foundation
import HavenCore
import HTTPTypes
import HummingbirdTesting
import Testing

/// The console's case transfer: the form on the case's transfer page (a refused field named
/// beside its input, typed values kept), the receiving supervisor's worklist and transfers page
/// with accept and decline, and the case then opening for the new owner and not the old one.
@Suite struct ConsoleTransferTests {
    static func lower(_ id: UUID) -> String { id.uuidString.lowercased() }

    static func location(_ response: TestResponse, sourceLocation: SourceLocation = #_sourceLocation) -> String {
        #expect(response.status == .seeOther, "expected a redirect, got \(response.status): \(response.text.prefix(600))", sourceLocation: sourceLocation)
        return response.headers[.location] ?? ""
    }

    @Test func aCaseworkerAsksAndTheReceivingSupervisorAcceptsOverHTTP() async throws {
        try await TestApp.run { app, client in
            let scene = try await CasesTransferTests.scene(app, client)
            let caseworker = try await ConsoleKit.login(client, scene.caseworker.user)
            let path = "/cases/\(Self.lower(scene.caseID))/transfer"

            let casePage = try await ConsoleKit.get(client, "/cases/\(Self.lower(scene.caseID))", cookie: caseworker.cookie)
            #expect(casePage.text.contains("href=\"\(path)\""), "the case page links to its transfer form")
            let form = try await ConsoleKit.get(client, path, cookie: caseworker.cookie)
            #expect(form.status == .ok, "\(form.text.prefix(600))")
            #expect(form.text.contains("id=\"transfer-form\"") && form.text.contains("name=\"consent\""))

            // A consent that does not cover every category is refused beside its field; the choices stay.
            let refused = try await ConsoleKit.post(client, path, ["csrf": caseworker.formToken, "organisation": Self.lower(scene.receiving),
                                                                   "consent": Self.lower(scene.partial), "reason": "person-moved"], cookie: caseworker.cookie)
            #expect(refused.status == .unprocessableContent, "\(refused.text.prefix(600))")
            #expect(refused.text.contains("id=\"consent-error\""), "\(refused.text.prefix(3000))")
            #expect(refused.text.contains("<option value=\"\(Self.lower(scene.receiving))\" selected>"), "the organisation chosen is kept")
            #expect(refused.text.contains("<option value=\"person-moved\" selected>"), "the reason chosen is kept")
            let missing = try await ConsoleKit.post(client, path, ["csrf": caseworker.formToken, "consent": Self.lower(scene.covering)],
                                                    cookie: caseworker.cookie)
            #expect(missing.status == .unprocessableContent)
            #expect(missing.text.contains("id=\"organisation-error\"") && missing.text.contains("id=\"reason-error\""))
            #expect(try CaseKit.count(app, "case_transfer") == 0)

            let asked = try await ConsoleKit.post(client, path, ["csrf": caseworker.formToken, "organisation": Self.lower(scene.receiving),
                                                                 "consent": Self.lower(scene.covering), "reason": "person-moved"], cookie: caseworker.cookie)
            #expect(Self.location(asked) == path)
            let waiting = try await ConsoleKit.get(client, path, cookie: caseworker.cookie)
            #expect(waiting.text.contains("id=\"transfer-pending\""), "\(waiting.text.prefix(1500))")

            // The receiving supervisor sees it on the worklist and accepts it on the transfers page.
            let receiver = try await ConsoleKit.login(client, try await app.user(.supervisor, in: scene.receiving))
            let worklist = try await ConsoleKit.get(client, "/worklist", cookie: receiver.cookie)
            #expect(worklist.text.contains("id=\"transfers\""), "\(worklist.text.prefix(1500))")
            #expect(worklist.text.contains("<li><a href=\"/transfers\">"), "the navigation offers the transfers page")
            // A partner's navigation does not: partners neither ask for nor decide transfers.
            let partner = try await ConsoleKit.login(client, scene.partner.user)
            let partnerPage = try await ConsoleKit.get(client, "/worklist", cookie: partner.cookie)
            #expect(partnerPage.status == .ok && !partnerPage.text.contains("href=\"/transfers\""), "\(partnerPage.text.prefix(1500))")
            let transfer = try #require(UUID(uuidString: try CaseKit.ownerRows(app, "SELECT id::text FROM case_transfer")[0][0] ?? ""))
            #expect(worklist.text.contains("transfer-\(Self.lower(transfer))"))
            let list = try await ConsoleKit.get(client, "/transfers", cookie: receiver.cookie)
            #expect(list.text.contains("action=\"/transfers/\(Self.lower(transfer))/accept\""), "\(list.text.prefix(2000))")
            // The receiving organisation's caseworker sees nothing to decide.
            let colleague = try await ConsoleKit.login(client, scene.receiverCaseworker.user)
            let theirs = try await ConsoleKit.get(client, "/transfers", cookie: colleague.cookie)
            #expect(!theirs.text.contains(Self.lower(transfer)))

            let accepted = try await ConsoleKit.post(client, "/transfers/\(Self.lower(transfer))/accept", ["csrf": receiver.formToken], cookie: receiver.cookie)
            #expect(Self.location(accepted) == "/cases/\(Self.lower(scene.caseID))")
            let now = try await ConsoleKit.get(client, "/cases/\(Self.lower(scene.caseID))", cookie: receiver.cookie)
            #expect(now.status == .ok)
            #expect(now.text.contains("Case transferred") && now.text.contains("Transfer requested"), "the history names the transfer")
            let gone = try await ConsoleKit.get(client, "/cases/\(Self.lower(scene.caseID))", cookie: caseworker.cookie)
            #expect(gone.status == .notFound)
        }
    }

    @Test func theReceivingSupervisorDeclinesWithAReason() async throws {
        try await TestApp.run { app, client in
            let scene = try await CasesTransferTests.scene(app, client)
            let transfer = try await CasesTransferTests.request(client, scene)
            let receiver = try await ConsoleKit.login(client, try await app.user(.supervisor, in: scene.receiving))
            let path = "/transfers/\(Self.lower(transfer))/decline"
            let noReason = try await ConsoleKit.post(client, path, ["csrf": receiver.formToken], cookie: receiver.cookie)
            #expect(noReason.status == .unprocessableContent)
            #expect(try CaseKit.count(app, "case_transfer", where: "status = 'requested'") == 1)
            let declined = try await ConsoleKit.post(client, path, ["csrf": receiver.formToken, "decline_reason": "not-in-area"], cookie: receiver.cookie)
            #expect(Self.location(declined) == "/transfers")
            #expect(try CaseKit.count(app, "case_transfer", where: "status = 'declined' AND decline_reason = 'not-in-area'") == 1)
            let caseworker = try await ConsoleKit.login(client, scene.caseworker.user)
            let outgoing = try await ConsoleKit.get(client, "/transfers", cookie: caseworker.cookie)
            #expect(outgoing.text.contains("The person is not in our area"), "\(outgoing.text.prefix(2000))")
            #expect(try await ConsoleKit.get(client, "/cases/\(Self.lower(scene.caseID))", cookie: caseworker.cookie).status == .ok)
        }
    }
}
