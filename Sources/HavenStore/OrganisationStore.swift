import Foundation
import HavenCore
import Postgres

public enum OrganisationStore {
    static let columns = "id, name, type, country, region, service_types, regions_covered, populations, accepts_referrals, capacity_note, active, version"

    /// Decodes `columns` starting at column `offset`.
    static func decode(_ row: PGRow, offset o: Int = 0) throws -> Organisation {
        let mandate = Mandate(
            serviceTypes: try row.codes(ServiceType.self, at: o + 5),
            regions: try row.decodeArray(String.self, at: o + 6) ?? [],
            populations: try row.codes(Population.self, at: o + 7),
            acceptsReferrals: try row.decode(at: o + 8),
            capacityNote: try row.decode(at: o + 9))
        return Organisation(
            id: try row.decode(at: o), name: try row.decode(at: o + 1),
            type: try row.code(OrganisationType.self, at: o + 2), country: try row.decode(at: o + 3),
            region: try row.decode(at: o + 4), mandate: mandate, active: try row.decode(at: o + 10), version: try row.decode(at: o + 11))
    }

    public static func create(_ draft: OrganisationDraft, on connection: PGConnection) throws -> Organisation {
        let mandate = draft.mandate ?? Mandate()
        do {
            let result = try connection.query("""
                INSERT INTO organisation (name, type, country, region, service_types, regions_covered, populations, accepts_referrals, capacity_note)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
                RETURNING id, name, type, country, region, service_types, regions_covered, populations, accepts_referrals, capacity_note, active, version
                """,
                [draft.name.trimmingCharacters(in: .whitespaces), draft.type.rawValue, draft.country, draft.region,
                 PGTextArray(mandate.serviceTypes.map(\.rawValue)), PGTextArray(mandate.regions),
                 PGTextArray(mandate.populations.map(\.rawValue)), mandate.acceptsReferrals, mandate.capacityNote])
            return try decode(result[0])
        } catch let error as PGError where error.kind == .uniqueViolation {
            throw StoreError.conflict("an organisation with this name exists", field: "name")
        }
    }

    public static func find(_ id: UUID, forUpdate: Bool = false, on connection: PGConnection) throws -> Organisation? {
        try connection.query("SELECT " + columns + " FROM organisation WHERE id = $1" + (forUpdate ? " FOR UPDATE" : ""), [id]).first.map { try decode($0) }
    }

    /// By id, or by a name that matches exactly one organisation (ignoring case).
    public static func find(idOrName: String, on connection: PGConnection) throws -> Organisation? {
        if let id = UUID(uuidString: idOrName) { return try find(id, on: connection) }
        return try connection.query("SELECT " + columns + " FROM organisation WHERE lower(name) = lower($1)", [idOrName]).first.map { try decode($0) }
    }

    public static func list(after cursor: String?, limit: Int, on connection: PGConnection) throws -> Page<Organisation> {
        let after = try nameCursor(cursor)
        let result = try connection.query("SELECT " + columns + """
            , lower(name) FROM organisation WHERE (lower(name), id) > ($1, $2::uuid) ORDER BY lower(name), id LIMIT $3
            """, [after.key, after.id, limit + 1])
        return try pageByName(result, limit: limit)
    }

    /// Where a page in name order starts: after the cursor's name and id, or at the beginning.
    private static func nameCursor(_ cursor: String?) throws -> (key: String, id: UUID) {
        try cursor.map(Cursor.keyAndID) ?? ("", UUID(uuid: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)))
    }

    /// A page in name order. The cursor carries PostgreSQL's own `lower(name)` (the last
    /// column), the key the next page compares with: Swift lower-cases letters that the
    /// database's `lower` may leave alone, which would skip names.
    private static func pageByName(_ result: PGResult, limit: Int) throws -> Page<Organisation> {
        let rows = result.rows
        let items = try rows.prefix(limit).map { try decode($0) }
        var next: String?
        if rows.count > limit, let last = items.last {
            next = Cursor.encode([try rows[limit - 1].decode(String.self, at: 12), last.id.uuidString])
        }
        return Page(items: items, nextCursor: next)
    }

    /// Applies an admin's changes to `current` (the row as locked); a patch that changes nothing
    /// is no new version. Returns the organisation and the fields that changed.
    public static func update(
        _ current: Organisation, _ patch: OrganisationPatch, on connection: PGConnection
    ) throws -> (organisation: Organisation, changed: [String])? {
        let changed = patch.changes(to: current)
        if changed.isEmpty { return (current, []) }
        let id = current.id
        do {
            let result = try connection.query("""
                UPDATE organisation SET
                    name = coalesce($2, name), type = coalesce($3, type), country = coalesce($4, country),
                    region = coalesce($5, region), service_types = coalesce($6::text[], service_types),
                    regions_covered = coalesce($7::text[], regions_covered), populations = coalesce($8::text[], populations),
                    accepts_referrals = coalesce($9, accepts_referrals),
                    capacity_note = CASE WHEN $6::text[] IS NULL THEN capacity_note ELSE $10 END,
                    active = coalesce($11, active), updated_at = now(), version = version + 1
                WHERE id = $1
                RETURNING id, name, type, country, region, service_types, regions_covered, populations, accepts_referrals, capacity_note, active, version
                """,
                [id, patch.name, patch.type?.rawValue, patch.country, patch.region,
                 patch.mandate.map { PGTextArray($0.serviceTypes.map(\.rawValue)) }, patch.mandate.map { PGTextArray($0.regions) },
                 patch.mandate.map { PGTextArray($0.populations.map(\.rawValue)) }, patch.mandate?.acceptsReferrals,
                 patch.mandate?.capacityNote, patch.active])
            if patch.active == false, result.first != nil {
                // A deactivated organisation's staff stop working at once, not when their tokens expire.
                try connection.execute("""
                    UPDATE session SET revoked_at = now()
                    WHERE revoked_at IS NULL AND user_id IN (SELECT id FROM app_user WHERE organisation_id = $1)
                    """, [id])
            }
            return try result.first.map { (try decode($0), changed) }
        } catch let error as PGError where error.kind == .uniqueViolation {
            throw StoreError.conflict("an organisation with this name exists", field: "name")
        }
    }

    /// Organisations whose mandate covers a need: they provide the service, take referrals, are
    /// in `country` when one is named, and cover `region` when one is named (listing it, or
    /// covering their whole country: no regions). By name, a page at a time.
    /// `population`: what is known of the person (Population.of); a mandate naming nothing of
    /// an age or a sex serves everyone in it (Mandate.serves).
    public static func matching(
        serviceType: ServiceType, country: String?, region: String?, excluding: UUID? = nil, population: [Population] = [],
        after cursor: String?, limit: Int, on connection: PGConnection
    ) throws -> Page<Organisation> {
        let after = try nameCursor(cursor)
        let age = population.first { $0 == .adult || $0 == .child }?.rawValue
        let sex = population.first { $0 == .female || $0 == .male }?.rawValue
        let result = try connection.query("SELECT " + columns + """
            , lower(name) FROM organisation
            WHERE active AND accepts_referrals AND $1 = ANY (service_types)
              AND ($2::text IS NULL OR country = $2)
              AND ($3::text IS NULL OR cardinality(regions_covered) = 0 OR lower($3) = ANY (SELECT lower(r) FROM unnest(regions_covered) r))
              AND ($4::uuid IS NULL OR id <> $4)
              AND (lower(name), id) > ($5, $6::uuid)
              AND ($8::text IS NULL OR NOT (populations && ARRAY['adult', 'child']) OR $8 = ANY (populations))
              AND ($9::text IS NULL OR NOT (populations && ARRAY['female', 'male']) OR $9 = ANY (populations))
            ORDER BY lower(name), id LIMIT $7
            """, [serviceType.rawValue, country, region, excluding, after.key, after.id, limit + 1, age, sex])
        return try pageByName(result, limit: limit)
    }

    /// Years this organisation keeps a closed case before its identifying data is erased.
    public static func retentionYears(_ id: UUID, on connection: PGConnection) throws -> Int {
        try connection.query("SELECT retention_years FROM organisation WHERE id = $1", [id]).first?.decode(Int.self, at: 0) ?? 5
    }
}

extension OrganisationStore {
    public static func names(_ ids: [UUID], on connection: PGConnection) throws -> [(UUID, String)] {
        guard !ids.isEmpty else { return [] }
        return try connection.query("SELECT id, name FROM organisation WHERE id = ANY($1::uuid[])", [PGTextArray(ids.map(\.uuidString))])
            .rows.map { row in (try row.decode(at: 0), try row.decode(at: 1)) }
    }
}
