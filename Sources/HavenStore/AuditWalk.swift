import Foundation
import HavenCore
import Postgres
import Sealing

/// One verification's walk over the chain, then over the events not sealed yet. Linear: one
/// HMAC per event and one per link, each on a libcrypto context made once per key.
struct AuditWalk {
    var report = AuditVerificationReport(checked: 0, pending: 0)
    private let keys: KeyRing
    private var eventMACs: MACKeys
    private var linkMACs: MACKeys
    /// Checkpoints by the link they fix, and the longest.
    private var expected: [Int64: [AuditCheckpoint]] = [:]
    private var longest: AuditCheckpoint?
    /// The transaction of the last event and its index there: what the next event's MAC covers.
    private var position: AuditPosition?
    /// Once an event carries the keyed form, an event of the old form after it is a copy.
    private var keyedFormSeen = false
    /// The form of the last event's MAC: a keyed-form event under a plain link was re-chained.
    private var lastForm = MACKeys.Form.bad
    /// An event whose MAC failed: if another event carries the same MAC, it is a copy of that one.
    private var suspect: (id: Int64, mac: [UInt8])?
    /// A checkpoint the chain departs from: if its head event is gone, the tail was cut.
    private var departed: AuditCheckpoint?

    init(keys: KeyRing, checkpoints: [AuditCheckpoint]) {
        self.keys = keys
        eventMACs = MACKeys(keys: keys, purpose: "audit-mac")
        linkMACs = MACKeys(keys: keys, purpose: AuditSealer.chainKeyPurpose)
        for checkpoint in checkpoints {
            expected[checkpoint.length, default: []].append(checkpoint)
            if checkpoint.length > (longest?.length ?? -1) { longest = checkpoint }
        }
        report.checkpointsChecked = checkpoints.count
        report.longestCheckpoint = longest?.length
    }

    /// The position of `event`: the next index in the same transaction, else the first of a new one.
    private mutating func advance(to event: StoredEvent) -> AuditPosition {
        if let last = position, last.xid == event.xid, last.index < Int32.max {
            position = AuditPosition(xid: event.xid, index: last.index + 1)
        } else {
            position = AuditPosition(xid: event.xid, index: 0)
        }
        return position ?? AuditPosition(xid: event.xid, index: 0)
    }

    /// Why the event's MAC does not hold, or nil when it does.
    private mutating func macProblem(_ event: inout StoredEvent, seq: Int64?) -> AuditProblem? {
        let at = advance(to: event)
        let place = seq.map { "event \(event.id) (chain link \($0))" } ?? "event \(event.id)"
        lastForm = eventMACs.verify(&event, at: at)
        switch lastForm {
        case .keyed:
            keyedFormSeen = true
            return nil
        case .legacy where !keyedFormSeen:
            return nil
        case .legacy:
            return AuditProblem(kind: .inserted, seq: seq, eventID: event.id,
                                message: "\(place) carries the MAC form of events written before the keyed chain, after it began: a copy of an older event")
        case .bad:
            suspect = (event.id, event.mac)
            return AuditProblem(kind: .changed, seq: seq, eventID: event.id,
                                message: "\(place) does not match its MAC: changed after it was written, written outside Haven, or moved to another transaction or place")
        }
    }

    mutating func run(_ connection: PGConnection, pageSize: Int) throws -> AuditVerificationReport {
        // Each page is a short index walk: compiling it to machine code costs more than it saves,
        // and parallel workers would take the cores the checking runs on.
        try connection.execute("SELECT set_config('jit', 'off', true), set_config('max_parallel_workers_per_gather', '0', true)")
        if let mismatch = try AuditKeyCheck.mismatch(keys: keys, on: connection) {
            report.problem = AuditProblem(kind: .wrongKey, seq: nil, eventID: nil, message: mismatch)
            return report
        }
        let lastOrder = try walkChain(connection, pageSize: pageSize)
        if report.problem == nil { try checkUnsealed(connection, after: lastOrder, pageSize: pageSize) }
        if report.problem == nil { checkLength() }
        if let departed, try connection.query("SELECT 1 FROM audit_event WHERE id = $1", [departed.eventID]).first == nil {
            report.problem = AuditProblem(kind: .truncated, seq: departed.length, eventID: departed.eventID,
                                          message: "event \(departed.eventID), the head of \(departed.label), was deleted: the trail's newest events were cut, and the chain sealed again after the cut departs from the checkpoint at link \(departed.length)")
        }
        if let suspect, report.problem?.kind == .changed {
            // A genuine MAC under another id: the event is a copy of that one.
            if let original = try connection.query("SELECT id FROM audit_event WHERE mac = $1 AND id <> $2 ORDER BY id LIMIT 1",
                                                   [suspect.mac, suspect.id]).first {
                let originalID: Int64 = try original.decode(at: 0)
                report.problem?.kind = .duplicated
                report.problem?.message = "event \(suspect.id) is a copy of event \(originalID) (the same MAC at another id or place)"
            }
        }
        return report
    }

    /// The sealed part, link by link; returns the (xid, id) of the last sealed event.
    private mutating func walkChain(_ connection: PGConnection, pageSize: Int) throws -> (xid: Int64, id: Int64) {
        var previousHash = AuditSealer.genesisHash
        var previousSeq: Int64 = 0
        var previousOrder: (xid: Int64, id: Int64) = (0, 0)
        var segment = 1
        // While one page is checked, PostgreSQL already reads the next (the walk's two halves
        // then share the machine's cores instead of taking turns).
        var page = try connection.query(AuditVerifier.chainPageSQL, [previousSeq, pageSize])
        var nextRequested = false
        defer { if nextRequested { _ = try? connection.receive() } }
        pages: while true {
            if page.rowCount == pageSize, let last = page.rows.last {
                try connection.send(AuditVerifier.chainPageSQL, [try last.decode(Int64.self, at: 0), pageSize])
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
                var event = try StoredEvent(row: row, offset: 5)
                // Transaction ids start again in each segment (a restore into another cluster).
                let linkSegment: Int = try row.decode(at: 5 + StoredEvent.columnCount)
                if linkSegment != segment {
                    guard linkSegment == segment + 1 else {
                        fail(.reordered, "chain link \(seq) (event \(eventID)) skips a segment")
                        break pages
                    }
                    segment = linkSegment
                    previousOrder = (0, 0)
                    position = nil
                }
                guard event.xid == sealedXID, (event.xid, event.id) > previousOrder else {
                    fail(.reordered, "event \(eventID) (chain link \(seq)) is out of order")
                    break pages
                }
                if let problem = macProblem(&event, seq: seq) {
                    report.problem = problem
                    break pages
                }
                let linkKey: String? = try row.decode(at: 6 + StoredEvent.columnCount)
                if let linkKey {
                    let input = AuditSealer.linkInput(previous: previousHash, seq: seq, eventID: eventID, xid: event.xid, segment: segment, mac: event.mac)
                    guard let link = linkMACs.link(linkKey, input) else {
                        report.problem = AuditProblem(kind: .wrongKey, seq: seq, eventID: eventID,
                                                      message: "chain link \(seq) is keyed with key \(linkKey), which the key file lacks")
                        break pages
                    }
                    guard ConstantTime.equals(link, hash) else {
                        let plain = AuditSealer.chainHash(previous: previousHash, seq: seq, eventID: eventID, mac: event.mac) == hash
                        fail(plain ? .rebuilt : .reordered, plain
                             ? "chain link \(seq) (event \(eventID)) was recomputed without the chain key: the chain was rebuilt from here"
                             : "chain link \(seq) (event \(eventID)) does not follow from the link before it: links were removed, moved or rebuilt here")
                        break pages
                    }
                    if report.keyedFromSeq == nil { report.keyedFromSeq = seq }
                } else {
                    guard report.keyedFromSeq == nil, lastForm != .keyed else {
                        fail(.rebuilt, "chain link \(seq) (event \(eventID)) has no key although " + (report.keyedFromSeq.map { "the keyed chain began at link \($0)" } ?? "its event was written since the keyed chain") + ": rebuilt without the chain key")
                        break pages
                    }
                    guard AuditSealer.chainHash(previous: previousHash, seq: seq, eventID: eventID, mac: event.mac) == hash else {
                        fail(.reordered, "chain link \(seq) (event \(eventID)) does not follow from the link before it")
                        break pages
                    }
                }
                if let signed = expected[seq], let differing = signed.first(where: { $0.headBytes != hash }) {
                    fail(.rebuilt, "chain link \(seq) (event \(eventID)) differs from \(differing.label): the chain up to it was rebuilt")
                    departed = differing
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
        return previousOrder
    }

    /// Nothing may sit below the sealed head without a link, nor carry a transaction id this
    /// cluster has not reached; the events not sealed yet must carry valid MACs.
    private mutating func checkUnsealed(_ connection: PGConnection, after sealed: (xid: Int64, id: Int64), pageSize: Int) throws {
        let stray = try connection.query("""
            SELECT e.id FROM audit_event e
            WHERE ((e.xid, e.id) <= ($1::text::xid8, $2::bigint) OR e.xid >= pg_snapshot_xmax(pg_current_snapshot()))
              AND NOT EXISTS (SELECT 1 FROM audit_seal s WHERE s.event_id = e.id)
            ORDER BY e.id LIMIT 1
            """, [String(sealed.xid), sealed.id])
        if let row = stray.first {
            let eventID: Int64 = try row.decode(at: 0)
            report.problem = AuditProblem(kind: .inserted, seq: nil, eventID: eventID,
                                          message: "event \(eventID) was inserted into the sealed part of the trail")
            return
        }
        var last = sealed
        while true {
            let page = try connection.query(AuditVerifier.pendingPageSQL, [String(last.xid), last.id, pageSize])
            for row in page.rows {
                var event = try StoredEvent(row: row, offset: 0)
                if let problem = macProblem(&event, seq: nil) {
                    report.problem = problem
                    return
                }
                report.pending += 1
                last = (event.xid, event.id)
            }
            if page.rowCount < pageSize { return }
        }
    }

    /// A chain shorter than a signed checkpoint lost its newest links, or all of them.
    private mutating func checkLength() {
        guard let longest, longest.length > (report.lastSealedSeq ?? 0) else { return }
        let length = report.lastSealedSeq ?? 0
        let message = length == 0
            ? "the trail is empty, but \(longest.label) says it held \(longest.length) sealed events: it was emptied"
            : "the chain ends at link \(length), but \(longest.label) says it reached link \(longest.length): links \(length + 1)–\(longest.length) and their events were deleted"
        report.problem = AuditProblem(kind: .truncated, seq: length + 1, eventID: longest.eventID, message: message)
    }
}
