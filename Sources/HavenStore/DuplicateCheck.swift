import Foundation
import HavenCore
import Postgres
import Sealing

/// Possible duplicates at intake without disclosure: a keyed blind index (HMAC of the
/// normalised name and birth year) finds the same person across organisations; the caller
/// learns references only within its own organisation.
public enum DuplicateCheck {
    /// The index under the newest key (stored) and under every key (looked up, so indexes made
    /// before a key rotation still match).
    static func indexes(for input: String, keys: KeyRing) throws -> (current: [UInt8], all: [[UInt8]]) {
        var all: [[UInt8]] = []
        var current: [UInt8] = []
        for key in keys.keys {
            let derived = try keys.derivedKey(purpose: "blind-index", keyID: key.id)
            let index = HMAC.sha256(Array(input.utf8), key: derived.key)
            all.append(index)
            if key.id == keys.currentKeyID { current = index }
        }
        return (current, all)
    }

    /// Stores the case's blind index and returns the hint about other cases of the same person.
    public static func record(caseID: UUID, identity: PersonIdentity?, birthYear: Int?, keys: KeyRing, on connection: PGConnection) throws -> DuplicateHint {
        guard let input = BlindIndexInput.make(identity: identity, birthYear: birthYear) else {
            try connection.execute("UPDATE case_file SET blind_index = NULL WHERE id = $1", [caseID])
            return DuplicateHint(sameOrganisation: [], otherOrganisation: false)
        }
        let (current, all) = try indexes(for: input, keys: keys)
        try connection.execute("UPDATE case_file SET blind_index = $2 WHERE id = $1", [caseID, current])
        let matches = try connection.query(
            "SELECT same_organisation, reference FROM haven_possible_duplicates($1::bytea[], $2)",
            [PGTextArray(all.map { "\\x" + Hex.encode($0) }), caseID])
        var same: [String] = []
        var other = false
        for row in matches.rows {
            if try row.decode(Bool.self, at: 0) {
                if let reference: String = try row.decode(at: 1) { same.append(reference) }
            } else {
                other = true
            }
        }
        return DuplicateHint(sameOrganisation: same.sorted(), otherOrganisation: other)
    }
}

extension DuplicateCheck {
    /// The cross-organisation hints `user` was given since `since` (from their `duplicate.hint`
    /// events), and the oldest of them. Holds a lock on the user's count until the transaction
    /// ends, so two intakes at once cannot both take the last hint.
    public static func hintsGiven(to user: UUID, since: Date, on connection: PGConnection) throws -> (count: Int, oldest: Date?) {
        try connection.execute("SELECT pg_advisory_xact_lock(hashtextextended('haven.duplicate-hint:' || $1::text, 0))", [user])
        let result = try connection.query("""
            SELECT count(*)::bigint, min(recorded) FROM audit_event
            WHERE subtype = 'duplicate.hint' AND actor_user = $1 AND recorded > $2
            """, [user, since])
        guard let row = result.first else { return (0, nil) }
        return (try row.decode(Int.self, at: 0), try row.decode(Date?.self, at: 1))
    }
}
