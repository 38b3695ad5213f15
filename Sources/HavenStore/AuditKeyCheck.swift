import Foundation
import Postgres
import Sealing

/// Check values of the audit MAC keys: recorded the first time a key signs, compared before a
/// verification, so a wrong key file is named as such.
public enum AuditKeyCheck {
    static func value(_ key: [UInt8]) -> [UInt8] {
        HMAC.sha256(Array("haven-audit-key-check".utf8), key: key)
    }

    /// Records the current key's check value (once per key id).
    public static func record(store: Store) async throws {
        let key = store.auditKey
        _ = try await store.withConnection { connection in
            try connection.execute("INSERT INTO audit_key (key_id, check_value) VALUES ($1, $2) ON CONFLICT (key_id) DO NOTHING",
                                   [key.id, value(key.key)])
        }
    }

    /// Why the key ring cannot verify the trail, or nil when every recorded key matches.
    static func mismatch(keys: KeyRing, on connection: PGConnection) throws -> String? {
        for row in try connection.query("SELECT key_id, check_value FROM audit_key ORDER BY key_id").rows {
            let id: String = try row.decode(at: 0)
            let recorded: [UInt8] = try row.decode(at: 1)
            guard let derived = try? keys.derivedKey(purpose: "audit-mac", keyID: id) else {
                return "the key file lacks key \(id), which signed audit events: use the key file this database was written with"
            }
            if !ConstantTime.equals(value(derived.key), recorded) {
                return "key \(id) in the key file is not the key that signed the audit trail: wrong key file"
            }
        }
        return nil
    }
}
