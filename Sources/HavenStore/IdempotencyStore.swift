import Foundation
import HavenCore
import Postgres
import Sealing

/// `Idempotency-Key` on creating POSTs: the first answer is kept (sealed: it may hold case
/// data) and replayed for a retry with the same key and body; the same key with another body
/// is refused.
public enum IdempotencyStore {
    public struct StoredResponse: Sendable {
        public var status: Int
        public var body: [UInt8]
        public var location: String?
        /// The case the answer is about, if any.
        public var caseID: UUID?
    }

    public enum Claim: Sendable {
        /// First use of the key: do the work, then `record` the answer.
        case new
        case replay(StoredResponse)
        /// The key was used for a different request.
        case mismatch
        /// The first answer was about a case since erased: it is gone, and nothing is redone.
        case erased
    }

    static func label(_ user: UUID, _ key: String) -> String { "idempotency:\(user.lowercasedString):\(key)" }

    public static func validate(_ key: String) throws {
        guard (1...200).contains(key.utf8.count), key.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F }) else {
            throw StoreError.invalid(ValidationFailure("Idempotency-Key", "must be 1-200 visible ASCII characters"))
        }
    }

    /// Claims the key inside the creating transaction. A concurrent duplicate waits on the
    /// key's row and then sees the first answer.
    public static func claim(user: UUID, key: String, scope: String, requestHash: [UInt8], keys: KeyRing, on connection: PGConnection) throws -> Claim {
        let inserted = try connection.query("""
            INSERT INTO idempotency_key (user_id, key, scope, request_hash) VALUES ($1, $2, $3, $4)
            ON CONFLICT (user_id, key) DO NOTHING RETURNING 1
            """, [user, key, scope, requestHash])
        if inserted.rowCount == 1 { return .new }
        guard let row = try connection.query(
            "SELECT scope, request_hash, status, response_sealed, location, case_id FROM idempotency_key WHERE user_id = $1 AND key = $2", [user, key]).first
        else { return .mismatch }
        let storedScope: String = try row.decode(at: 0)
        let storedHash: [UInt8] = try row.decode(at: 1)
        guard storedScope == scope, storedHash == requestHash, let status: Int = try row.decode(at: 2) else { return .mismatch }
        if status == 410, try row.decode([UInt8]?.self, at: 3) == nil { return .erased }
        let body = try FieldSealing.openText(try row.decode([UInt8]?.self, at: 3), label(user, key), keys: keys) ?? ""
        return .replay(StoredResponse(status: status, body: Array(body.utf8), location: try row.decode(at: 4), caseID: try row.decode(at: 5)))
    }

    public static func record(user: UUID, key: String, status: Int, body: [UInt8], location: String?, caseID: UUID?,
                              keys: KeyRing, on connection: PGConnection) throws {
        try connection.execute(
            "UPDATE idempotency_key SET status = $3, response_sealed = $4, location = $5, case_id = $6 WHERE user_id = $1 AND key = $2",
            [user, key, status, try FieldSealing.sealText(String(decoding: body, as: UTF8.self), label(user, key), keys: keys), location, caseID])
    }

    public static func requestHash(scope: String, body: [UInt8]) -> [UInt8] {
        Digest.sha256(Array(scope.utf8) + [0] + body)
    }
}
