import Foundation
import HavenCore
import Logging
import Postgres
import Sealing

/// Re-seals everything not sealed under the newest key, in small transactions, while Haven
/// serves. Run after every instance has the new key in its key file (the newest line seals,
/// all lines open).
public enum KeyRotation {
    struct Column {
        var table: String
        var column: String
        /// SQL for the row's identity as text, and the label (associated data) built from it.
        var rowKey: String
        var label: @Sendable (String) -> String
        /// SQL matching the row by `$1` (the row key as text).
        var match: String
    }

    static let columns: [Column] = [
        Column(table: "case_file", column: "identity_sealed", rowKey: "id::text", label: { "case:\($0):identity" }, match: "id::text = $1"),
        Column(table: "case_file", column: "note_sealed", rowKey: "id::text", label: { "case:\($0):note" }, match: "id::text = $1"),
        Column(table: "case_file", column: "labour_sector_sealed", rowKey: "id::text", label: { "case:\($0):labour-sector" }, match: "id::text = $1"),
        Column(table: "case_file", column: "violence_location_sealed", rowKey: "id::text", label: { "case:\($0):violence-location" },
               match: "id::text = $1"),
        Column(table: "consent", column: "purposes_sealed", rowKey: "id::text", label: { "consent:\($0):purposes" }, match: "id::text = $1"),
        Column(table: "service_episode", column: "outcome_sealed", rowKey: "id::text", label: { "service:\($0):outcome" }, match: "id::text = $1"),
        Column(table: "service_episode", column: "counsellors_sealed", rowKey: "id::text", label: { "service:\($0):counsellors" },
               match: "id::text = $1"),
        Column(table: "referral", column: "outcome_sealed", rowKey: "id::text", label: { "referral:\($0):outcome" }, match: "id::text = $1"),
        Column(table: "referral_transition", column: "outcome_sealed", rowKey: "uid::text",
               label: { "referral-transition:\($0):outcome" }, match: "uid::text = $1"),
        Column(table: "need", column: "note_sealed", rowKey: "id::text", label: { "need:\($0):note" }, match: "id::text = $1"),
        Column(table: "need", column: "reason_sealed", rowKey: "id::text", label: { "need:\($0):reason" }, match: "id::text = $1"),
        Column(table: "session_note", column: "note_sealed", rowKey: "episode_id::text || ':session:' || session_index",
               label: { "episode:\($0)" }, match: "episode_id::text || ':session:' || session_index = $1"),
        Column(table: "referral", column: "note_sealed", rowKey: "id::text", label: { "referral:\($0):note" }, match: "id::text = $1"),
        Column(table: "referral_transition", column: "note_sealed", rowKey: "uid::text",
               label: { "referral-transition:\($0):note" }, match: "uid::text = $1"),
        Column(table: "break_glass_grant", column: "reason_sealed", rowKey: "id::text", label: { "grant:\($0):reason" }, match: "id::text = $1"),
        Column(table: "break_glass_grant", column: "review_note_sealed", rowKey: "id::text", label: { "grant:\($0):review" }, match: "id::text = $1"),
        Column(table: "app_user", column: "totp_secret", rowKey: "id::text", label: { "totp:\($0)" }, match: "id::text = $1"),
        Column(table: "app_user", column: "totp_pending", rowKey: "id::text", label: { "totp-pending:\($0)" }, match: "id::text = $1"),
        Column(table: "webhook_subscription", column: "secret_sealed", rowKey: "id::text", label: { "webhook:\($0):secret" },
               match: "id::text = $1"),
        Column(table: "webhook_subscription", column: "previous_secret_sealed", rowKey: "id::text", label: { "webhook:\($0):previous-secret" },
               match: "id::text = $1"),
        Column(table: "notification_email", column: "address_sealed", rowKey: "user_id::text", label: { "email:\($0)" },
               match: "user_id::text = $1"),
        Column(table: "idempotency_key", column: "response_sealed", rowKey: "user_id::text || ':' || key",
               label: { "idempotency:\($0)" }, match: "user_id::text || ':' || key = $1"),
    ]

    /// Re-seals everything under the newest key; returns how many values changed.
    public static func rotate(store: Store, batch: Int = 500, logger: Logger) async throws -> Int {
        var total = 0
        for column in columns {
            while true {
                let changed = try await store.transaction(.system) { transaction in
                    try resealBatch(column, keys: transaction.keys, batch: batch, on: transaction.connection)
                }
                total += changed
                if changed < batch { break }
            }
            logger.info("re-sealed", metadata: ["table": "\(column.table)", "column": "\(column.column)"])
        }
        total += try await reindexBlindIndexes(store: store, batch: batch)
        let count = total
        try await store.transaction(.system) { transaction in
            try transaction.audit(.update, .keysRotate, purpose: .administration,
                                  detail: ["key": .string(transaction.keys.currentKeyID), "values": .int(count)])
        }
        return total
    }

    /// The id of the key a sealed value names, computed in SQL: byte 1 is its length.
    static let keyIDExpression = "convert_from(substring(%@ from 3 for get_byte(%@, 1)), 'UTF8')"

    static func resealBatch(_ column: Column, keys: KeyRing, batch: Int, on connection: PGConnection) throws -> Int {
        let keyID = keyIDExpression.replacingOccurrences(of: "%@", with: column.column)
        let select = "SELECT " + column.rowKey + ", " + column.column + " FROM " + column.table
            + " WHERE " + column.column + " IS NOT NULL AND length(" + column.column + ") > 2 AND " + keyID + " <> $1 LIMIT $2 FOR UPDATE SKIP LOCKED"
        let rows = try connection.query(select, [keys.currentKeyID, batch])
        let update = "UPDATE " + column.table + " SET " + column.column + " = $2 WHERE " + column.match
        for row in rows.rows {
            let rowKey: String = try row.decode(at: 0)
            let sealed: [UInt8] = try row.decode(at: 1)
            let label = Array(column.label(rowKey).utf8)
            let plain: [UInt8]
            do {
                plain = try keys.open(sealed, associatedData: label)
            } catch {
                throw StoreError.undecryptable("\(column.table).\(column.column) of \(rowKey) does not open: \(error)")
            }
            try connection.execute(update, [rowKey, try keys.seal(plain, associatedData: label)])
        }
        return rows.rowCount
    }

    /// Blind indexes made under an older key still match (lookups try every key), but are
    /// recomputed under the newest one so an old key can eventually leave the key file.
    static func reindexBlindIndexes(store: Store, batch: Int) async throws -> Int {
        var total = 0
        var after = "00000000-0000-0000-0000-000000000000"
        while true {
            let from = after
            let (count, last) = try await store.transaction(.system) { transaction -> (Int, String?) in
                let rows = try transaction.connection.query("""
                    SELECT id, identity_sealed, birth_year FROM case_file
                    WHERE blind_index IS NOT NULL AND id > $1::uuid ORDER BY id LIMIT $2
                    """, [from, batch])
                var last: String?
                for row in rows.rows {
                    let id: UUID = try row.decode(at: 0)
                    let identity = try FieldSealing.open(try row.decode([UInt8]?.self, at: 1), as: PersonIdentity.self,
                                                         CaseStore.identityLabel(id), keys: transaction.keys)
                    if let input = BlindIndexInput.make(identity: identity, birthYear: try row.decode(at: 2)) {
                        let index = try DuplicateCheck.indexes(for: input, keys: transaction.keys).current
                        try transaction.connection.execute("UPDATE case_file SET blind_index = $2 WHERE id = $1", [id, index])
                    }
                    last = id.uuidString
                }
                return (rows.rowCount, last)
            }
            total += count
            guard let last, count == batch else { return total }
            after = last
        }
    }

    /// Key ids that sealed values in the database name but the key ring lacks (checked at
    /// start, so a wrong key file is a clear error, not a stream of failed reads).
    public static func missingKeys(store: Store) async throws -> [String] {
        let known = Set(store.keys.keys.map(\.id))
        let used = try await store.transaction(.system) { transaction -> Set<String> in
            var used = Set<String>()
            for column in columns {
                let keyID = keyIDExpression.replacingOccurrences(of: "%@", with: column.column)
                let sql = "SELECT DISTINCT " + keyID + " FROM (SELECT " + column.column + " FROM " + column.table + " WHERE "
                    + column.column + " IS NOT NULL AND length(" + column.column + ") > 2 LIMIT 10000) sample"
                for row in try transaction.connection.query(sql).rows { used.insert(try row.decode(String.self, at: 0)) }
            }
            return used
        }
        return used.subtracting(known).sorted()
    }
}
