import Foundation
import HavenCore
import Postgres
import Sealing

public enum ServiceStore {
    static let columns = """
        id, case_id, need_id, referral_id, type, provider_organisation_id, status, start_on, due_on, end_on,
        outcome, detail::text, created_at, updated_at, version
        """

    /// With the sealed outcome and counsellor names, for reading an episode whole.
    static let sealedColumns = columns + ", outcome_sealed, counsellors_sealed"

    static func noteLabel(_ episode: UUID, _ index: Int) -> String { "episode:\(episode.lowercasedString):session:\(index)" }
    static func outcomeLabel(_ episode: UUID) -> String { FieldSealing.label("service:", episode, ":outcome") }
    /// The counsellors' names, in session order, sealed together; the stored detail keeps empty names.
    static func counsellorsLabel(_ episode: UUID) -> String { FieldSealing.label("service:", episode, ":counsellors") }

    /// Opens the outcome and the counsellors' names when given `keys` (and the row has
    /// `sealedColumns`); without, or for an episode recorded before they were sealed, they are
    /// as stored in clear.
    static func decode(_ row: PGRow, keys: KeyRing? = nil) throws -> ServiceEpisode {
        let id: UUID = try row.decode(at: 0)
        let detailText: String = try row.decode(at: 11)
        var detail = (try? FieldSealing.decoder.decode(ServiceDetail.self, from: Data(detailText.utf8))) ?? ServiceDetail()
        var outcome: String? = try row.decode(at: 10)
        if let keys {
            outcome = try FieldSealing.openText(try row.decode([UInt8]?.self, at: 15), outcomeLabel(id), keys: keys) ?? outcome
            if let names = try FieldSealing.open(try row.decode([UInt8]?.self, at: 16), as: [String].self, counsellorsLabel(id), keys: keys),
               var sessions = detail.counselling {
                for index in sessions.indices where index < names.count { sessions[index].counsellor = names[index] }
                detail.counselling = sessions
            }
        }
        return ServiceEpisode(
            id: try row.decode(at: 0), caseID: try row.decode(at: 1), needID: try row.decode(at: 2), referralID: try row.decode(at: 3),
            type: try row.code(ServiceType.self, at: 4), providerOrganisation: try row.decode(at: 5),
            status: try row.code(ServiceStatus.self, at: 6),
            startOn: try row.decode(at: 7),
            dueOn: try row.decode(at: 8),
            endOn: try row.decode(at: 9),
            outcome: outcome, detail: detail, createdAt: try row.decode(at: 12), updatedAt: try row.decode(at: 13),
            version: try row.decode(at: 14))
    }

    /// The detail as stored: without its free text (notes, counsellors' names), sealed apart.
    static func detailJSON(_ detail: ServiceDetail?) throws -> PGJSON {
        var stored = (detail ?? ServiceDetail()).withoutNotes
        stored.counselling = stored.counselling?.map { var session = $0; session.counsellor = ""; return session }
        return PGJSON(text: String(decoding: try FieldSealing.encoder.encode(stored), as: UTF8.self))
    }

    static func sealedCounsellors(_ detail: ServiceDetail?, _ episode: UUID, keys: KeyRing) throws -> [UInt8]? {
        try FieldSealing.seal(detail?.counselling.map { $0.map(\.counsellor) }, counsellorsLabel(episode), keys: keys)
    }

    /// Counselling notes go to `session_note`, sealed one by one. A session sent without its
    /// note keeps the note it has (re-sending a list never erases notes); only the notes of
    /// sessions no longer in the list go.
    static func saveNotes(_ episode: UUID, caseID: UUID, detail: ServiceDetail?, keys: KeyRing, on connection: PGConnection) throws {
        guard let sessions = detail?.counselling else { return }
        try connection.execute("DELETE FROM session_note WHERE episode_id = $1 AND session_index >= $2", [episode, sessions.count])
        for (index, session) in sessions.enumerated() {
            try saveNote(episode, index: index, caseID: caseID, note: session.note, keys: keys, on: connection)
        }
    }

    /// One session's note: nil keeps it as it is, an empty note removes it.
    static func saveNote(_ episode: UUID, index: Int, caseID: UUID, note: String?, keys: KeyRing, on connection: PGConnection) throws {
        guard let note else { return }
        guard let sealed = try FieldSealing.sealText(note, noteLabel(episode, index), keys: keys) else {
            try connection.execute("DELETE FROM session_note WHERE episode_id = $1 AND session_index = $2", [episode, index])
            return
        }
        try connection.execute("""
            INSERT INTO session_note (episode_id, session_index, case_id, note_sealed) VALUES ($1, $2, $3, $4)
            ON CONFLICT (episode_id, session_index) DO UPDATE SET note_sealed = excluded.note_sealed
            """, [episode, index, caseID, sealed])
    }

    /// An episode the receiving organisation recorded on a referral (not the one its acceptance
    /// started) is seen beyond that referral only when the referral shares `services`.
    /// On `service_episode s`.
    static let releasedBeyondReferral = """
        NOT EXISTS (SELECT 1 FROM referral r WHERE r.id = s.referral_id AND r.episode_id IS DISTINCT FROM s.id
                    AND NOT ('services' = ANY (r.shared_categories)))
        """

    /// Puts the sealed counselling notes back into the episodes' detail.
    static func attachNotes(_ episodes: [ServiceEpisode], keys: KeyRing, on connection: PGConnection) throws -> [ServiceEpisode] {
        let counselling = episodes.filter { $0.detail.counselling?.isEmpty == false }
        guard !counselling.isEmpty else { return episodes }
        let rows = try connection.query(
            "SELECT episode_id, session_index, note_sealed FROM session_note WHERE episode_id = ANY($1::uuid[])",
            [PGTextArray(counselling.map(\.id.uuidString))])
        var notes: [UUID: [Int: String]] = [:]
        for row in rows.rows {
            let episode: UUID = try row.decode(at: 0)
            let index: Int = try row.decode(at: 1)
            notes[episode, default: [:]][index] = try FieldSealing.openText(try row.decode([UInt8]?.self, at: 2), noteLabel(episode, index), keys: keys)
        }
        return episodes.map { episode in
            guard let sessionNotes = notes[episode.id], var sessions = episode.detail.counselling else { return episode }
            for index in sessions.indices { sessions[index].note = sessionNotes[index] }
            var copy = episode
            copy.detail.counselling = sessions
            return copy
        }
    }

    public static func create(caseID: UUID, _ draft: ServiceDraft, referralID: UUID? = nil, actor: Actor, keys: KeyRing, on connection: PGConnection) throws -> ServiceEpisode {
        let id = UUID()
        let result = try connection.query("""
            INSERT INTO service_episode (id, case_id, need_id, referral_id, type, provider_organisation_id, status, start_on, due_on, detail,
                counsellors_sealed, created_by)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8::date, $9::date, $10::jsonb, $11, $12) RETURNING
            """ + " " + sealedColumns, [
                id, caseID, draft.needId, referralID, draft.type.rawValue, draft.providerOrganisation, (draft.status ?? .planned).rawValue,
                draft.startOn?.description, draft.dueOn?.description, try detailJSON(draft.detail),
                try sealedCounsellors(draft.detail, id, keys: keys), actor.userID,
            ])
        try saveNotes(id, caseID: caseID, detail: draft.detail, keys: keys, on: connection)
        var episode = try decode(result[0], keys: keys)
        episode.detail = draft.detail ?? ServiceDetail()
        return episode
    }

    /// The case's services; their counselling notes (stored sealed apart) only with `openNotes`.
    public static func list(caseID: UUID, keys: KeyRing, openNotes: Bool = true, on connection: PGConnection) throws -> [ServiceEpisode] {
        let episodes = try connection.query("SELECT " + sealedColumns + " FROM service_episode s WHERE case_id = $1 AND "
                                            + releasedBeyondReferral + " ORDER BY created_at, id", [caseID])
            .rows.map { try decode($0, keys: keys) }
        return openNotes ? try attachNotes(episodes, keys: keys, on: connection) : episodes
    }

    public static func find(_ id: UUID, caseID: UUID, keys: KeyRing, forUpdate: Bool = false, on connection: PGConnection) throws -> ServiceEpisode? {
        let sql = "SELECT " + sealedColumns + " FROM service_episode s WHERE id = $1 AND case_id = $2 AND " + releasedBeyondReferral
            + (forUpdate ? " FOR UPDATE OF s" : "")
        guard let episode = try connection.query(sql, [id, caseID]).first.map({ try decode($0, keys: keys) }) else { return nil }
        return try attachNotes([episode], keys: keys, on: connection).first
    }

    public static func update(_ episode: ServiceEpisode, _ patch: ServicePatch, keys: KeyRing, on connection: PGConnection) throws -> ServiceEpisode {
        let result = try connection.query("""
            UPDATE service_episode SET status = coalesce($2, status), provider_organisation_id = coalesce($3, provider_organisation_id),
                start_on = coalesce($4::date, start_on), due_on = coalesce($5::date, due_on), end_on = coalesce($6::date, end_on),
                outcome_sealed = coalesce($7, outcome_sealed), outcome = CASE WHEN $7::bytea IS NULL THEN outcome END,
                detail = coalesce($8::jsonb, detail), counsellors_sealed = CASE WHEN $8::jsonb IS NULL THEN counsellors_sealed ELSE $9 END,
                updated_at = now(), version = version + 1
            WHERE id = $1 RETURNING
            """ + " " + sealedColumns, [
                episode.id, patch.status?.rawValue, patch.providerOrganisation, patch.startOn?.description, patch.dueOn?.description,
                patch.endOn?.description, try FieldSealing.sealText(patch.outcome, outcomeLabel(episode.id), keys: keys),
                try patch.detail.map { try detailJSON($0) }, try sealedCounsellors(patch.detail, episode.id, keys: keys),
            ])
        if let detail = patch.detail { try saveNotes(episode.id, caseID: episode.caseID, detail: detail, keys: keys, on: connection) }
        guard let updated = try result.first.map({ try decode($0, keys: keys) }) else { throw StoreError.notFound("no such service") }
        return try attachNotes([updated], keys: keys, on: connection)[0]
    }

    /// Moves the episode a referral started, when the referral is accepted or completes.
    static func setStatus(_ id: UUID, _ status: ServiceStatus, outcome: String?, keys: KeyRing, on connection: PGConnection) throws {
        try connection.execute("""
            UPDATE service_episode SET status = $2, outcome_sealed = coalesce($3, outcome_sealed),
                outcome = CASE WHEN $3::bytea IS NULL THEN outcome END,
                start_on = CASE WHEN $2 = 'in_progress' THEN coalesce(start_on, current_date) ELSE start_on END,
                end_on = CASE WHEN $2 IN ('completed', 'cancelled') THEN coalesce(end_on, current_date) ELSE end_on END,
                updated_at = now(), version = version + 1
            WHERE id = $1
            """, [id, status.rawValue, try FieldSealing.sealText(outcome, outcomeLabel(id), keys: keys)])
    }

    /// The worklist: unfinished services past their due date, in the actor's own scope.
    public static func overdue(actor: Actor, today: CalendarDate, after cursor: String?, limit: Int, keys: KeyRing,
                               on connection: PGConnection) throws -> Page<(ServiceEpisode, String)> {
        var sql = SQLFilter()
        sql.add("s.status IN ('planned', 'in_progress') AND s.due_on < ?::date", today.description)
        sql.add("c.organisation_id = s.case_organisation_id")
        // As `releasedBeyondReferral`: a partner's own episode only within its referral's `services`.
        sql.add("""
            NOT EXISTS (SELECT 1 FROM referral r WHERE r.id = s.referral_id AND r.episode_id IS DISTINCT FROM s.id
                        AND NOT ('services' = ANY (r.shared_categories)))
            """)
        sql.restrict(to: AccessPolicy.scope(actor, .listCases), organisation: "s.case_organisation_id = ?", ownCases: "(c.assigned_to = ? OR c.created_by = ?)")
        if let cursor {
            let (date, id) = try Cursor.dateAndID(cursor)
            sql.add("(s.due_on, s.id) > (?::date, ?::uuid)", date.description, id)
        }
        let limitPlaceholder = sql.bind(limit + 1)
        let text = "SELECT " + sealedColumns.split(separator: ",").map { "s." + $0.trimmingCharacters(in: .whitespacesAndNewlines) }.joined(separator: ", ")
            + ", c.reference FROM service_episode s JOIN case_file c ON c.id = s.case_id" + sql.whereClause
            + " ORDER BY s.due_on, s.id LIMIT " + limitPlaceholder
        var items = try connection.query(text, sql.parameters).rows.map { (try decode($0, keys: keys), try $0.decode(String.self, at: 17)) }
        var next: String?
        if items.count > limit {
            items.removeLast()
            if let last = items.last { next = Cursor.encode([last.0.dueOn?.description ?? "", last.0.id.uuidString]) }
        }
        return Page(items: items, nextCursor: next)
    }
}
