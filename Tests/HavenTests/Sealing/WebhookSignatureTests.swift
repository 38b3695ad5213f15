import Foundation
import Sealing
import Testing

/// Standard Webhooks signatures reproduce the convention's published vector, so a receiver's
/// own library accepts what Haven sends.
@Suite struct WebhookSignatureTests {
    static let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    static let id = "msg_p5jXN8AQM9LWM0D4loKWxJek"
    static let timestamp: Int64 = 1614265330
    static let body = Array(#"{"test": 2432232314}"#.utf8)

    @Test func thePublishedVectorReproducesExactly() throws {
        let key = try #require(WebhookSignature.key(fromSecret: Self.secret))
        #expect(WebhookSignature.sign(id: Self.id, timestamp: Self.timestamp, body: Self.body, key: key)
            == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
    }

    @Test func duringARotationBothKeysSignAndEitherVerifies() throws {
        let old = try #require(WebhookSignature.key(fromSecret: Self.secret))
        let new = try #require(WebhookSignature.key(fromSecret: try WebhookSignature.newSecret()))
        let header = WebhookSignature.header(id: Self.id, timestamp: Self.timestamp, body: Self.body, keys: [new, old])
        #expect(header.split(separator: " ").count == 2)
        #expect(WebhookSignature.verify(header: header, id: Self.id, timestamp: Self.timestamp, body: Self.body, key: old))
        #expect(WebhookSignature.verify(header: header, id: Self.id, timestamp: Self.timestamp, body: Self.body, key: new))
        #expect(!WebhookSignature.verify(header: header, id: Self.id, timestamp: Self.timestamp + 1, body: Self.body, key: new))
    }

    @Test func aSecretIsPrefixedBase64OfThirtyTwoBytes() throws {
        let secret = try WebhookSignature.newSecret()
        #expect(secret.hasPrefix("whsec_"))
        #expect(WebhookSignature.key(fromSecret: secret)?.count == 32)
        #expect(WebhookSignature.key(fromSecret: "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw") == nil)
        #expect(WebhookSignature.key(fromSecret: "whsec_not base64!") == nil)
    }
}
