import Delivery
import Foundation
import HavenAPI
import HavenCore
import HavenServices
import HTTPTypes
import HummingbirdTesting
@testable import HavenStore
import Postgres
import Testing

/// Email notifications end to end: a user's choice through the API, outbox messages delivered
/// by the worker through the email channel and libcurl to a real SMTP server on loopback, and
/// read back with Python's `email` package.
@Suite struct NotificationEmailTests {
    /// The console's catalogue, as `haven serve` reads it.
    static var words: NotificationEmailWords { get throws { try NotificationEmailWords.load() } }

    static func channel(_ app: TestApp, _ courier: Courier, port: Int, host: String = "127.0.0.1",
                        security: OutboundMail.Security = .none, caFile: String? = nil) throws -> EmailChannel {
        let words = try words
        return EmailChannel(store: app.store, courier: courier,
                     relay: .init(host: host, port: port, security: security, caFile: caFile, from: "haven@notify.example.org",
                                  consoleBase: "https://haven.example.org", timeoutMilliseconds: 20_000),
                     text: { words.text($0, $1) })
    }

    static func choose(_ app: TestApp, _ user: TestApp.TestUser, _ address: String, _ kinds: Set<NotificationKind>) async throws {
        let keys = app.store.keys
        try await app.store.transaction(.system) { transaction in
            try NotificationEmailStore.save(NotificationEmailChoice(address: address, kinds: kinds), of: user.id, keys: keys, on: transaction.connection)
        }
    }

    static func announce(_ app: TestApp, _ kind: NotificationKind, to organisation: UUID, user: UUID? = nil) async throws -> NotificationMessage {
        let message = NotificationMessage(kind: kind, recipientOrganisation: organisation, recipientUser: user, caseReference: "MD-2026-000321",
                                          priority: .emergency, link: NotificationLink.referral(UUID()))
        try await app.store.transaction(.system) { $0.notify(message) }
        return message
    }

    @Test func anOptedInUserGetsOneEmailInTheirLanguageSayingNothingOfTheCase() async throws {
        try await TestApp.run { app, _ in
            let sink = try SMTPSink()
            defer { sink.stop() }
            let courier = Courier(threads: 2)
            let organisation = try await app.organisation()
            let reader = try await app.user(.partner, in: organisation.id)
            _ = try await app.user(.partner, in: organisation.id)   // chose no email: gets none
            try await app.store.transaction(.system) { try UserStore.setLanguage(.ro, of: reader.id, on: $0.connection) }
            try await Self.choose(app, reader, "shelter.worker@example.org", [.referralArrived])

            let arrived = try await Self.announce(app, .referralArrived, to: organisation.id)
            _ = try await Self.announce(app, .referralCancelled, to: organisation.id)   // not chosen: no email
            let deliverer = NotificationDeliverer(store: app.store, channels: [try Self.channel(app, courier, port: sink.port)])
            try await deliverer.deliverDue()
            try await deliverer.deliverDue()   // sent once: nothing more
            await courier.shutdown()

            let mail = try sink.received()
            try #require(mail.count == 1)
            let received = mail[0]
            #expect(received.to == "shelter.worker@example.org")
            #expect(received.from == "haven@notify.example.org")
            let romanian = try Self.words.text(arrived, .ro)
            #expect(received.subject == "Haven: " + romanian.event)
            #expect(received.contentType == "text/plain;utf-8")
            #expect(received.messageId == "<\(arrived.id.lowercasedString)@notify.example.org>")
            #expect(received.body.contains("MD-2026-000321"))
            #expect(received.body.contains("https://haven.example.org" + arrived.link))
            #expect(received.body.contains(romanian.priority))
            #expect(received.body.contains(romanian.footer))
            // Only what the message holds: its lines are the event, reference, priority, link and footer.
            let lines = received.body.split(whereSeparator: \.isNewline).map(String.init).filter { !$0.isEmpty && $0 != "-- " }
            #expect(lines.count == 6, "unexpected lines: \(lines)")
            #expect(try CaseKit.count(app, "notification_delivery", where: "channel = 'email' AND state = 'sent'") == 1)
        }
    }

    @Test func aNamedUserAloneIsEmailedAndAWithdrawnChoiceStopsWhatIsPending() async throws {
        try await TestApp.run { app, _ in
            let sink = try SMTPSink()
            defer { sink.stop() }
            let courier = Courier(threads: 2)
            let organisation = try await app.organisation()
            let named = try await app.user(.caseworker, in: organisation.id)
            let colleague = try await app.user(.caseworker, in: organisation.id)
            try await Self.choose(app, named, "named@example.org", [.closureApproved, .needOverdue])
            try await Self.choose(app, colleague, "colleague@example.org", [.closureApproved, .needOverdue])

            _ = try await Self.announce(app, .closureApproved, to: organisation.id, user: named.id)
            let channel = try Self.channel(app, courier, port: sink.port)
            try await NotificationDeliverer(store: app.store, channels: [channel]).deliverDue()
            #expect(try sink.received().map(\.to) == ["named@example.org"])

            // Routed to both, then the colleague stops need emails before it is sent: nothing goes to them.
            _ = try await Self.announce(app, .needOverdue, to: organisation.id)
            try await app.store.transaction(.system) { transaction in
                _ = try NotificationOutbox.route(channels: [channel], limit: 10, on: transaction.connection)
            }
            try await Self.choose(app, colleague, "colleague@example.org", [.closureApproved])
            try await NotificationDeliverer(store: app.store, channels: [channel]).deliverDue()
            await courier.shutdown()
            #expect(try sink.received().map(\.to).sorted() == ["named@example.org", "named@example.org"])
        }
    }

    @Test func startTLSIsRequiredAndUsed() async throws {
        try await TestApp.run { app, _ in
            let organisation = try await app.organisation()
            let reader = try await app.user(.supervisor, in: organisation.id)
            try await Self.choose(app, reader, "supervisor@example.org", [.closureRequested])
            _ = try await Self.announce(app, .closureRequested, to: organisation.id)
            let courier = Courier(threads: 2)

            // A relay that offers no STARTTLS gets nothing: the delivery waits to be tried again.
            let plain = try SMTPSink()
            try await NotificationDeliverer(store: app.store, channels: [try Self.channel(app, courier, port: plain.port, security: .startTLS)])
                .deliverDue()
            #expect(try plain.received().isEmpty)
            plain.stop()
            #expect(try CaseKit.count(app, "notification_delivery", where: "channel = 'email' AND state = 'pending' AND last_error LIKE 'smtp%'") == 1)

            // One that does, with a certificate the operator trusts, gets it over TLS.
            let secure = try SMTPSink(tls: true)
            defer { secure.stop() }
            try await app.store.transaction(.system) { transaction in
                try transaction.connection.execute("UPDATE notification_delivery SET next_attempt_at = now() WHERE channel = 'email'")
            }
            try await NotificationDeliverer(store: app.store, channels: [try Self.channel(app, courier, port: secure.port, host: "localhost",
                                                                                      security: .startTLS, caFile: secure.certificate)]).deliverDue()
            await courier.shutdown()
            #expect(try secure.received().map(\.to) == ["supervisor@example.org"])
        }
    }

    @Test func theChoiceIsCheckedNamingEveryBadFieldAndTheAddressIsSealed() async throws {
        try await TestApp.run { app, client in
            let organisation = try await app.organisation()
            let user = try await app.user(.caseworker, in: organisation.id)
            let token = try await app.login(client, user)

            func put(_ body: String) async throws -> TestResponse {
                try await client.sendRaw(.put, "/v1/me/notification-email", token: token, body: body, contentType: "application/json")
            }
            let bad = try await put(#"{"address": "not an address", "kinds": ["referral.arrived", "referral.teleported"]}"#)
            #expect(bad.status == .unprocessableContent)
            #expect(bad.isProblem)
            let fields = bad.problemFields
            #expect(fields.contains("address") && fields.contains("kinds"), "fields: \(fields)")

            let saved = try await put(#"{"address": " caseworker.one@example.org", "kinds": ["need.overdue", "closure.approved"]}"#)
            #expect(saved.status == .ok)
            let read = try await client.send(.get, "/v1/me/notification-email", token: token)
            let body = try read.json()
            #expect(body["address"] as? String == "caseworker.one@example.org")
            #expect(body["kinds"] as? [String] == ["closure.approved", "need.overdue"])
            #expect(try CaseKit.count(app, "notification_email", where: "position(convert_to('caseworker.one', 'UTF8') in address_sealed) > 0") == 0)
            #expect(try CaseKit.count(app, "notification_email") == 1)

            // Nothing chosen: no email, and the address goes.
            let none = try await put(#"{"kinds": []}"#)
            #expect(none.status == .ok)
            #expect(try none.json()["address"] is NSNull)
            #expect(try CaseKit.count(app, "notification_email") == 0)
        }
    }
}
