import Foundation
import HavenCore
import Logging
import Postgres
import Sealing

/// Chains committed audit events, shortly after commit, so requests never queue behind a
/// chain-head lock.
///
/// An event is sealed once its transaction is older than every transaction still running
/// (`xid < pg_snapshot_xmin`): from then on nothing can commit before it, so sealing in
/// `(xid, id)` order never skips a late commit. Each seal row holds a link
/// `HMAC(chain key, tag ‖ previous link ‖ seq ‖ event id ‖ xid ‖ segment ‖ event MAC)` and the
/// id of the ring key the chain key derives from (`link_key`). The chain key is not in the
/// database, so its owner can neither rebuild the chain after a deletion nor extend it; the
/// event MAC covers the content and position, so the chain fixes content, membership and order
/// (S9). Links sealed before migration 0016 are plain SHA-256 (`link_key` NULL) and are checked
/// as such; no plain link may follow a keyed one.
public struct AuditSealer: Sendable {
    static let lockKey: Int64 = 0x4861_7665_6E53_6561
    public static let genesisHash = [UInt8](repeating: 0, count: 32)
    static let chainKeyPurpose = "audit-chain"
    static let linkTag = Array("haven-audit-link-v2".utf8)

    let store: Store

    public init(store: Store) {
        self.store = store
    }

    /// Seals what is ready, at most `limit` events; returns how many. Instances take turns
    /// through an advisory lock, so running it everywhere is safe.
    @discardableResult
    public func sealPending(limit: Int = 10_000) async throws -> Int {
        let chainKey = store.chainKey
        return try await store.transaction(.system) { transaction in
            try AuditSealer.seal(on: transaction.connection, chainKey: chainKey, limit: limit)
        }
    }

    /// Seals everything ready now, in batches. A batch short of the limit has reached the
    /// horizon: stop there, or under steady load this would chase new commits for ever.
    public func sealAll(batch: Int = 10_000) async throws -> Int {
        var total = 0
        while true {
            let sealed = try await sealPending(limit: batch)
            total += sealed
            if sealed < batch { return total }
        }
    }

    static func seal(on connection: PGConnection, chainKey: (id: String, key: [UInt8]), limit: Int) throws -> Int {
        // No JIT: compiling the batch query cost more than running it, every second.
        guard try connection.query("SELECT pg_try_advisory_xact_lock($1), set_config('jit', 'off', true)", [lockKey])[0]
            .decode(Bool.self, at: 0) else { return 0 }
        var seq: Int64 = 0, lastEventID: Int64 = 0, lastXID: Int64 = 0, segment = 1
        var previous = genesisHash
        if let head = try connection.query("SELECT seq, event_id, event_xid, hash, segment FROM audit_seal ORDER BY seq DESC LIMIT 1").first {
            seq = try head.decode(at: 0)
            lastEventID = try head.decode(at: 1)
            lastXID = try head.decode(at: 2)
            previous = try head.decode(at: 3)
            segment = try head.decode(at: 4)
        }
        // A sealed transaction id this cluster has not reached yet: the database was restored
        // into another cluster. Start a new segment there, skipping what is already sealed.
        let xmax: Int64 = try connection.query("SELECT pg_snapshot_xmax(pg_current_snapshot())::text::bigint")[0].decode(at: 0)
        let newSegment = seq > 0 && lastXID >= xmax
        let ready: PGResult
        if newSegment {
            ready = try connection.query("""
                SELECT id, xid::text::bigint, mac FROM audit_event e
                WHERE xid < pg_snapshot_xmin(pg_current_snapshot())
                  AND NOT EXISTS (SELECT 1 FROM audit_seal s WHERE s.event_id = e.id)
                ORDER BY xid, id LIMIT $1
                """, [limit])
        } else if segment > 1 {
            // After a restore without a raised epoch, this cluster's ids climb through the
            // restored ones: skip those already sealed rather than stall on a duplicate seal.
            ready = try connection.query("""
                SELECT id, xid::text::bigint, mac FROM audit_event e
                WHERE (xid, id) > ($1::text::xid8, $2::bigint) AND xid < pg_snapshot_xmin(pg_current_snapshot())
                  AND NOT EXISTS (SELECT 1 FROM audit_seal s WHERE s.event_id = e.id)
                ORDER BY xid, id LIMIT $3
                """, [String(lastXID), lastEventID, limit])
        } else {
            ready = try connection.query("""
                SELECT id, xid::text::bigint, mac FROM audit_event
                WHERE (xid, id) > ($1::text::xid8, $2::bigint) AND xid < pg_snapshot_xmin(pg_current_snapshot())
                ORDER BY xid, id LIMIT $3
                """, [String(lastXID), lastEventID, limit])
        }
        if ready.rowCount == 0 { return 0 }
        // Only an edit of the chain as the owner gets a head this close to the end of its
        // numbers; refuse to seal past it (verify names the edit) rather than trap.
        guard seq <= Int64.max - Int64(ready.rowCount), segment < Int.max else {
            throw StoreError.configuration("the audit chain's last link has an impossible sequence or segment number")
        }
        if newSegment { segment += 1 }
        var seqs: [Int64] = [], ids: [Int64] = [], xids: [Int64] = [], hashes: [[UInt8]] = []
        seqs.reserveCapacity(ready.rowCount)
        ids.reserveCapacity(ready.rowCount)
        xids.reserveCapacity(ready.rowCount)
        hashes.reserveCapacity(ready.rowCount)
        for row in ready.rows {
            seq += 1
            let eventID: Int64 = try row.decode(at: 0)
            let mac: [UInt8] = try row.decode(at: 2)
            let xid: Int64 = try row.decode(at: 1)
            previous = keyedLink(previous: previous, seq: seq, eventID: eventID, xid: xid, segment: segment, mac: mac, key: chainKey.key)
            seqs.append(seq)
            ids.append(eventID)
            xids.append(xid)
            hashes.append(previous)
        }
        // Binary arrays: text ones made PostgreSQL parse every number and hex digest.
        try connection.execute("""
            INSERT INTO audit_seal (seq, event_id, event_xid, hash, segment, link_key)
            SELECT s, e, x, h, $5, $6 FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bytea[]) AS t(s, e, x, h)
            """, [PGInt64Array(seqs), PGInt64Array(ids), PGInt64Array(xids), PGByteaArray(hashes), segment, chainKey.id])
        return ready.rowCount
    }

    /// The bytes a keyed link covers.
    static func linkInput(previous: [UInt8], seq: Int64, eventID: Int64, xid: Int64, segment: Int, mac: [UInt8]) -> [UInt8] {
        var input = linkTag
        input.reserveCapacity(linkTag.count + previous.count + 28 + mac.count)
        input.append(contentsOf: previous)
        for value in [seq, eventID, xid] {
            for shift in stride(from: 56, through: 0, by: -8) { input.append(UInt8(truncatingIfNeeded: value >> Int64(shift))) }
        }
        let segment = UInt32(truncatingIfNeeded: segment)
        for shift in stride(from: 24, through: 0, by: -8) { input.append(UInt8(truncatingIfNeeded: segment >> UInt32(shift))) }
        input.append(contentsOf: mac)
        return input
    }

    static func keyedLink(previous: [UInt8], seq: Int64, eventID: Int64, xid: Int64, segment: Int, mac: [UInt8], key: [UInt8]) -> [UInt8] {
        HMAC.sha256(linkInput(previous: previous, seq: seq, eventID: eventID, xid: xid, segment: segment, mac: mac), key: key)
    }

    /// A link sealed before the keyed chain (migration 0016): no key, so only checkpoints and the
    /// keyed links after it protect it.
    static func chainHash(previous: [UInt8], seq: Int64, eventID: Int64, mac: [UInt8]) -> [UInt8] {
        var input = previous
        input.reserveCapacity(previous.count + 16 + mac.count)
        for value in [seq, eventID] {
            for shift in stride(from: 56, through: 0, by: -8) { input.append(UInt8(truncatingIfNeeded: value >> Int64(shift))) }
        }
        input.append(contentsOf: mac)
        return Digest.sha256(input)
    }

    /// Seals every `interval` until cancelled (a background task of `haven serve`).
    public func run(every interval: Duration, logger: Logger) async {
        while !Task.isCancelled {
            do {
                _ = try await sealAll()
            } catch is CancellationError {
                return
            } catch {
                logger.warning("audit sealing failed; will retry", metadata: ["error": "\(PGError.loggable(error))"])
            }
            try? await Task.sleep(for: interval)
        }
    }
}
