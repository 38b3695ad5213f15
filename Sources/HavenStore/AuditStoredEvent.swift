import Foundation
import HavenCore
import Postgres
import Sealing

/// MAC keys by id, derived once per verification, each with a context reused for every event.
struct MACKeys {
    enum Form { case keyed, legacy, bad }

    let keys: KeyRing
    let purpose: String
    var cache: [String: HMACSHA256] = [:]

    init(keys: KeyRing, purpose: String) {
        self.keys = keys
        self.purpose = purpose
    }

    mutating func context(_ keyID: String) -> HMACSHA256? {
        if let cached = cache[keyID] { return cached }
        guard let derived = try? keys.derivedKey(purpose: purpose, keyID: keyID), let made = HMACSHA256(key: derived.key) else { return nil }
        cache[keyID] = made
        return made
    }

    /// Which form of MAC the event carries: over its content and position (written since the
    /// keyed chain), over its content alone (written before), or neither.
    mutating func verify(_ event: inout StoredEvent, at position: AuditPosition) -> Form {
        guard event.typeHolds, let mac = context(event.macKey) else { return .bad }
        let contentLength = event.canonicalBytes.count
        position.append(to: &event.canonicalBytes)
        defer { event.canonicalBytes.removeLast(event.canonicalBytes.count - contentLength) }
        if let computed = mac.authenticate(event.canonicalBytes), ConstantTime.equals(computed, event.mac) { return .keyed }
        if let computed = mac.authenticate(event.canonicalBytes, count: contentLength), ConstantTime.equals(computed, event.mac) { return .legacy }
        return .bad
    }

    /// A keyed chain link as it should be.
    mutating func link(_ keyID: String, _ input: [UInt8]) -> [UInt8]? {
        context(keyID)?.authenticate(input)
    }
}

/// An audit event as stored, with exactly the text the MAC was computed over.
struct StoredEvent {
    /// Columns of `AuditVerifier.eventColumns`.
    static let columnCount = 20

    var id: Int64
    var xid: Int64
    var recordedMicroseconds: Int64
    var canonicalBytes: [UInt8]
    var macKey: String
    var mac: [UInt8]
    /// The stored `type` is the subtype's first word. It is kept for queries, not signed: a
    /// changed one must still be caught.
    var typeHolds: Bool

    /// Builds `AuditEvent.canonicalBytes` from the columns' bytes as they arrive, without a
    /// string per field: verification reads every event of the trail.
    init(row: PGRow, offset o: Int) throws {
        id = try row.decode(at: o)
        // Both as the server sends them, 8 bytes each: converting them in SQL (to text, to a
        // numeric epoch) was a good part of PostgreSQL's share of the walk.
        xid = try StoredEvent.int64(row, o + 1)
        // Wrapping: an edited `recorded` of ±infinity must fail its MAC check, not trap.
        recordedMicroseconds = try StoredEvent.int64(row, o + 2) &+ StoredEvent.postgresEpochMicroseconds
        var bytes: [UInt8] = []
        bytes.reserveCapacity(400)
        var subtypeType: [UInt8] = []
        bytes.append(contentsOf: AuditEvent.canonicalPrefix)
        AuditEvent.appendField(String(recordedMicroseconds).utf8, to: &bytes)
        for column in 3...16 {
            let isUUID = column == 6 || column == 7 || column == 12 || column == 13
            try row.withBytes(at: o + column) { value in
                guard let value else { return AuditEvent.appendField(nil as [UInt8]?, to: &bytes) }
                if column == 4 { subtypeType = Array(value.prefix { $0 != UInt8(ascii: ".") }) }
                guard isUUID else { return AuditEvent.appendField(value, to: &bytes) }
                guard value.count == 16 else { throw PGError(kind: .typeMismatch, message: "column \(o + column) is not a uuid") }
                // The lower-case spelling the event was signed with.
                AuditEvent.appendLength(36, to: &bytes)
                UUID.withSpelling(value, upper: false) { bytes.append(contentsOf: $0) }
            }
        }
        canonicalBytes = bytes
        macKey = try row.decode(at: o + 17)
        mac = try row.decode(at: o + 18)
        typeHolds = try row.withBytes(at: o + 19) { value in value.map { $0.elementsEqual(subtypeType) } ?? false }
    }

    /// 2000-01-01 in Unix microseconds: where PostgreSQL's timestamps count from.
    static let postgresEpochMicroseconds: Int64 = 946_684_800_000_000

    /// An xid8 or timestamptz column in binary form: a big-endian 64-bit integer.
    private static func int64(_ row: PGRow, _ column: Int) throws -> Int64 {
        try row.withBytes(at: column) { value in
            guard let value, value.count == 8 else { throw PGError(kind: .typeMismatch, message: "column \(column) is not 8 bytes") }
            return Int64(bigEndian: value.loadUnaligned(as: Int64.self))
        }
    }
}
