import Foundation
import HavenCore
import Sealing
@testable import HavenStore
import Testing

/// The sealed identity's own reader gives what Foundation's decoder gives for everything the
/// sealing encoder writes, and declines (so the caller falls back) what it was not built for.
@Suite("Sealed identity reader")
struct SealedIdentityReaderTests {
    static let identities: [PersonIdentity] = [
        PersonIdentity(),
        PersonIdentity(givenName: "Synthetic", familyName: "Person"),
        PersonIdentity(givenName: "Ștefan \"Ghost\" \\ O'Test\n\t\u{01}", familyName: "Émilie 🙂 テスト", aliases: ["A/B", "", "\u{1F600}x"],
                       dateOfBirth: CalendarDate.of(Date(timeIntervalSince1970: 900_000_000)),
                       contact: PersonIdentity.Contact(phone: "+000 0000", email: "synthetic@example.invalid", other: nil),
                       address: "Street 1\r\nTown",
                       identityDocuments: [PersonIdentity.IdentityDocument(type: "passport", number: "X0000000", issuingCountry: "XX",
                                                                           expiresOn: CalendarDate.of(Date(timeIntervalSince1970: 1_900_000_000))),
                                           PersonIdentity.IdentityDocument(type: "other")]),
        PersonIdentity(aliases: [], contact: PersonIdentity.Contact(), identityDocuments: []),
    ]

    @Test("the same identity as Foundation's decoder, for what the sealing encoder writes")
    func sameAsFoundation() throws {
        for identity in Self.identities {
            let bytes = [UInt8](try FieldSealing.encoder.encode(identity))
            let ours = try #require(SealedIdentityReader.read(bytes), "\(String(decoding: bytes, as: UTF8.self))")
            #expect(ours == identity)
            #expect(ours == (try FieldSealing.decoder.decode(PersonIdentity.self, from: Data(bytes))))
        }
    }

    @Test("escapes Foundation's encoder does not write are read as JSON says")
    func escapes() throws {
        let text = #"{"given_name":"\u0041\u00e9\ud83d\ude00\/\b\f","aliases":null,"unknown":"ignored","contact":null}"#
        let ours = try #require(SealedIdentityReader.read(Array(text.utf8)))
        #expect(ours == (try FieldSealing.decoder.decode(PersonIdentity.self, from: Data(text.utf8))))
        #expect(ours.givenName == "Aé😀/\u{08}\u{0C}")
    }

    @Test("anything else is declined, for the general decoder to judge", arguments: [
        "", "null", "[]", #"{"given_name":1}"#, #"{"given_name":"x"} trailing"#, #"{"given_name":"x""#, #"{"identity_documents":[{"number":"1"}]}"#,
        #"{"date_of_birth":"1999-13-40"}"#, #"{"given_name":"\ud83d"}"#, #"{"given_name":"\q"}"#, "{\"given_name\":\"a\u{01}\"}", #"{"aliases":[true]}"#,
    ])
    func declines(_ text: String) {
        #expect(SealedIdentityReader.read(Array(text.utf8)) == nil, "\(text)")
    }

    @Test("a sealed identity opens through it")
    func roundTrip() throws {
        let keys = try KeyRing(keys: [("k1", [UInt8](repeating: 7, count: 32))])
        for identity in Self.identities {
            let sealed = try FieldSealing.seal(identity, "case:test:identity", keys: keys)
            #expect(try FieldSealing.open(sealed, as: PersonIdentity.self, "case:test:identity", keys: keys) == identity)
        }
    }
}
