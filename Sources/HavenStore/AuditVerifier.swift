import Foundation
import HavenCore
import Postgres
import Sealing

public struct AuditProblem: Sendable, Equatable, Codable {
    public enum Kind: String, Sendable, Codable {
        /// An event's content no longer matches its MAC (edited, or written outside Haven).
        case changed
        /// The chain names an event that is gone.
        case deleted
        /// An event sits in the sealed part of the trail but not in the chain.
        case inserted
        /// Chain links are out of order or do not follow from each other.
        case reordered
        /// The key file does not hold the keys that signed the trail: nothing can be judged.
        case wrongKey = "wrong-key"
    }

    public var kind: Kind
    public var seq: Int64?
    public var eventID: Int64?
    public var message: String
}

public struct AuditVerificationReport: Sendable, Equatable {
    public var ok: Bool { problem == nil }
    /// Sealed events checked.
    public var checked: Int
    /// Events committed but not sealed yet (checked for their MAC only).
    public var pending: Int
    public var lastSealedSeq: Int64?
    public var lastSealedEventID: Int64?
    public var lastSealedRecorded: Date?
    public var problem: AuditProblem?
}

/// Walks the chain from the first seal and names the first event that was changed, deleted,
/// inserted or reordered.
public struct AuditVerifier: Sendable {
    let store: Store

    public init(store: Store) {
        self.store = store
    }

    public func verify(as context: AccessContext = .system, pageSize: Int = 20_000) async throws -> AuditVerificationReport {
        let keys = store.keys
        return try await store.transaction(context, isolation: .repeatableReadOnly) { transaction in
            try AuditVerifier.walk(transaction.connection, keys: keys, pageSize: pageSize)
        }
    }

    static let eventColumns = """
        e.id, e.xid, e.recorded, e.action, e.subtype, e.outcome,
        e.actor_user, e.actor_org, e.actor_role, e.actor_ip, e.entity_kind, e.entity_id, e.case_id, e.subject_org,
        e.purpose, e.detail, e.request_id, e.mac_key, e.mac, e.type
        """

    static let chainPageSQL = "SELECT s.seq, s.event_id, s.event_xid, s.hash, e.id IS NOT NULL, " + eventColumns + """
        , s.segment
        FROM audit_seal s LEFT JOIN audit_event e ON e.id = s.event_id
        WHERE s.seq > $1 ORDER BY s.seq LIMIT $2
        """

    static let pendingPageSQL = "SELECT " + eventColumns + """

        FROM audit_event e
        WHERE (e.xid, e.id) > ($1::text::xid8, $2::bigint)
        ORDER BY e.xid, e.id LIMIT $3
        """

    static func walk(_ connection: PGConnection, keys: KeyRing, pageSize: Int) throws -> AuditVerificationReport {
        var macKeys = MACKeys(keys: keys)
        var report = AuditVerificationReport(checked: 0, pending: 0)
        // Each page is a short index walk: compiling it to machine code costs more than it saves,
        // and parallel workers would take the cores the checking runs on.
        try connection.execute("SELECT set_config('jit', 'off', true), set_config('max_parallel_workers_per_gather', '0', true)")
        if let mismatch = try AuditKeyCheck.mismatch(keys: keys, on: connection) {
            report.problem = AuditProblem(kind: .wrongKey, seq: nil, eventID: nil, message: mismatch)
            return report
        }
        var previousHash = AuditSealer.genesisHash
        var previousSeq: Int64 = 0
        var previousOrder: (xid: Int64, id: Int64) = (0, 0)
        var segment = 1
        // While one page is checked, PostgreSQL already reads the next (the walk's two halves
        // then share the machine's cores instead of taking turns).
        var page = try connection.query(chainPageSQL, [previousSeq, pageSize])
        var nextRequested = false
        defer { if nextRequested { _ = try? connection.receive() } }
        pages: while true {
            if page.rowCount == pageSize, let last = page.rows.last {
                try connection.send(chainPageSQL, [try last.decode(Int64.self, at: 0), pageSize])
                nextRequested = true
            }
            for row in page.rows {
                if nextRequested && row.index % 256 == 0 { connection.readAvailable() }
                let seq: Int64 = try row.decode(at: 0)
                let eventID: Int64 = try row.decode(at: 1)
                let sealedXID: Int64 = try row.decode(at: 2)
                let hash: [UInt8] = try row.decode(at: 3)
                func fail(_ kind: AuditProblem.Kind, _ message: String) {
                    report.problem = AuditProblem(kind: kind, seq: seq, eventID: eventID, message: message)
                }
                guard seq == previousSeq + 1 else {
                    fail(.deleted, "chain link \(previousSeq + 1) is missing")
                    break pages
                }
                guard try row.decode(Bool.self, at: 4) else {
                    fail(.deleted, "event \(eventID) (chain link \(seq)) was deleted")
                    break pages
                }
                let event = try StoredEvent(row: row, offset: 5)
                // Transaction ids start again in each segment (a restore into another cluster).
                let linkSegment: Int = try row.decode(at: 5 + StoredEvent.columnCount)
                if linkSegment != segment {
                    guard linkSegment == segment + 1 else {
                        fail(.reordered, "chain link \(seq) (event \(eventID)) skips a segment")
                        break pages
                    }
                    segment = linkSegment
                    previousOrder = (0, 0)
                }
                guard event.xid == sealedXID, (event.xid, event.id) > previousOrder else {
                    fail(.reordered, "event \(eventID) (chain link \(seq)) is out of order")
                    break pages
                }
                guard try macKeys.verify(event) else {
                    fail(.changed, "event \(eventID) (chain link \(seq)) was changed after it was written")
                    break pages
                }
                guard AuditSealer.chainHash(previous: previousHash, seq: seq, eventID: eventID, mac: event.mac) == hash else {
                    fail(.reordered, "chain link \(seq) (event \(eventID)) does not follow from the link before it")
                    break pages
                }
                previousHash = hash
                previousSeq = seq
                previousOrder = (event.xid, event.id)
                report.checked += 1
                report.lastSealedSeq = seq
                report.lastSealedEventID = eventID
                report.lastSealedRecorded = Date(timeIntervalSince1970: Double(event.recordedMicroseconds) / 1_000_000)
            }
            guard nextRequested else { break }
            nextRequested = false
            page = try connection.receive()
        }
        if nextRequested {
            nextRequested = false
            _ = try connection.receive()
        }
        if report.problem != nil { return report }

        // Nothing may sit below the sealed head without a link, nor carry a transaction id this
        // cluster has not reached: either would be an inserted event.
        let stray = try connection.query("""
            SELECT e.id FROM audit_event e
            WHERE ((e.xid, e.id) <= ($1::text::xid8, $2::bigint) OR e.xid >= pg_snapshot_xmax(pg_current_snapshot()))
              AND NOT EXISTS (SELECT 1 FROM audit_seal s WHERE s.event_id = e.id)
            ORDER BY e.id LIMIT 1
            """, [String(previousOrder.xid), previousOrder.id])
        if let row = stray.first {
            let eventID: Int64 = try row.decode(at: 0)
            report.problem = AuditProblem(kind: .inserted, seq: nil, eventID: eventID,
                                          message: "event \(eventID) was inserted into the sealed part of the trail")
            return report
        }
        // Events not sealed yet: their MAC must still hold.
        var lastPending: (xid: Int64, id: Int64) = previousOrder
        while true {
            let page = try connection.query(pendingPageSQL, [String(lastPending.xid), lastPending.id, pageSize])
            for row in page.rows {
                let event = try StoredEvent(row: row, offset: 0)
                guard try macKeys.verify(event) else {
                    report.problem = AuditProblem(kind: .changed, seq: nil, eventID: event.id,
                                                  message: "event \(event.id) does not carry a valid MAC: written or changed outside Haven")
                    return report
                }
                report.pending += 1
                lastPending = (event.xid, event.id)
            }
            if page.rowCount < pageSize { break }
        }
        return report
    }
}

/// MAC keys by id, derived once per verification.
private struct MACKeys {
    let keys: KeyRing
    var cache: [String: HMACSHA256] = [:]

    init(keys: KeyRing) { self.keys = keys }

    mutating func verify(_ event: StoredEvent) throws -> Bool {
        guard event.typeHolds else { return false }
        let mac: HMACSHA256
        if let cached = cache[event.macKey] {
            mac = cached
        } else {
            guard let derived = try? keys.derivedKey(purpose: "audit-mac", keyID: event.macKey),
                  let made = HMACSHA256(key: derived.key) else { return false }
            cache[event.macKey] = made
            mac = made
        }
        guard let computed = mac.authenticate(event.canonicalBytes) else { return false }
        return ConstantTime.equals(computed, event.mac)
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
