import Foundation
import Sealing

/// The console's anti-forgery tokens: an HMAC of the session's token hash under a key derived
/// from the key ring, so a token is good for one session only and nothing is stored.
public struct FormTokens: Sendable {
    let key: [UInt8]

    public init(keys: KeyRing) throws {
        key = try keys.derivedKey(purpose: "console-form-token").key
    }

    public func token(for sessionHash: [UInt8]) -> String {
        Hex.encode(Array(HMAC.sha256(sessionHash, key: key).prefix(20)))
    }

    public func accepts(_ token: String?, for sessionHash: [UInt8]) -> Bool {
        guard let token else { return false }
        return ConstantTime.equals(Array(token.utf8), Array(self.token(for: sessionHash).utf8))
    }
}
