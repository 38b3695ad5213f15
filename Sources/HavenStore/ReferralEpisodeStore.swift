import Foundation
import HavenCore
import Postgres
import Sealing

/// The service episodes on one referral (the one its acceptance started and those the
/// recipient recorded), and their counselling sessions changed one at a time.
extension ServiceStore {
    public static func list(referralID: UUID, keys: KeyRing, openNotes: Bool, on connection: PGConnection) throws -> [ServiceEpisode] {
        let episodes = try connection.query("SELECT " + sealedColumns + " FROM service_episode WHERE referral_id = $1 ORDER BY created_at, id",
                                            [referralID]).rows.map { try decode($0, keys: keys) }
        return openNotes ? try attachNotes(episodes, keys: keys, on: connection) : episodes
    }

    public static func find(_ id: UUID, referralID: UUID, keys: KeyRing, forUpdate: Bool = false, on connection: PGConnection) throws -> ServiceEpisode? {
        let sql = "SELECT " + sealedColumns + " FROM service_episode WHERE id = $1 AND referral_id = $2" + (forUpdate ? " FOR UPDATE" : "")
        guard let episode = try connection.query(sql, [id, referralID]).first.map({ try decode($0, keys: keys) }) else { return nil }
        return try attachNotes([episode], keys: keys, on: connection).first
    }

    /// Appends a session to the episode; returns the episode and the session's index.
    public static func addSession(_ session: ServiceDetail.CounsellingSession, to episode: ServiceEpisode, keys: KeyRing,
                                  on connection: PGConnection) throws -> (ServiceEpisode, Int) {
        var detail = episode.detail
        detail.counselling = (detail.counselling ?? []) + [session]
        let index = (detail.counselling?.count ?? 1) - 1
        return (try writeSession(index, note: session.note, detail: detail, of: episode, keys: keys, on: connection), index)
    }

    /// Corrects the session at `index`; the other sessions and their notes stay as they are.
    public static func correctSession(_ index: Int, _ patch: SessionPatch, of episode: ServiceEpisode, keys: KeyRing,
                                      on connection: PGConnection) throws -> ServiceEpisode {
        guard var sessions = episode.detail.counselling, sessions.indices.contains(index) else { throw StoreError.notFound("no such session") }
        sessions[index] = patch.applied(to: sessions[index])
        var detail = episode.detail
        detail.counselling = sessions
        return try writeSession(index, note: patch.note, detail: detail, of: episode, keys: keys, on: connection)
    }

    /// The detail (without notes or names) and the sealed names as a whole; the one note alone.
    static func writeSession(_ index: Int, note: String?, detail: ServiceDetail, of episode: ServiceEpisode, keys: KeyRing,
                             on connection: PGConnection) throws -> ServiceEpisode {
        let result = try connection.query("""
            UPDATE service_episode SET detail = $2::jsonb, counsellors_sealed = $3, updated_at = now(), version = version + 1
            WHERE id = $1 RETURNING
            """ + " " + sealedColumns, [episode.id, try detailJSON(detail), try sealedCounsellors(detail, episode.id, keys: keys)])
        try saveNote(episode.id, index: index, caseID: episode.caseID, note: note, keys: keys, on: connection)
        guard let updated = try result.first.map({ try decode($0, keys: keys) }) else { throw StoreError.notFound("no such service") }
        return try attachNotes([updated], keys: keys, on: connection)[0]
    }

    /// Replaces the episode's detail (a stay extended), with the due date moved to `dueOn` when given.
    public static func replaceDetail(_ detail: ServiceDetail, dueOn: CalendarDate?, of episode: ServiceEpisode, keys: KeyRing,
                                     on connection: PGConnection) throws -> ServiceEpisode {
        let result = try connection.query("""
            UPDATE service_episode SET detail = $2::jsonb, counsellors_sealed = $3, due_on = coalesce($4::date, due_on),
                updated_at = now(), version = version + 1
            WHERE id = $1 RETURNING
            """ + " " + sealedColumns, [episode.id, try detailJSON(detail), try sealedCounsellors(detail, episode.id, keys: keys),
                                        dueOn?.description])
        guard let updated = try result.first.map({ try decode($0, keys: keys) }) else { throw StoreError.notFound("no such service") }
        return try attachNotes([updated], keys: keys, on: connection)[0]
    }
}
