import Foundation
import HavenCore
import Postgres
import Sealing

public enum CaseSort: String, ClosedSet {
    case updatedDesc = "-updated_at"
    case updatedAsc = "updated_at"
    case createdDesc = "-created_at"
    case createdAsc = "created_at"
    case referenceAsc = "reference"
    case referenceDesc = "-reference"

    /// Column and direction, from this fixed list only: never from input.
    var sql: (column: String, descending: Bool) {
        switch self {
        case .updatedDesc: return ("updated_at", true)
        case .updatedAsc: return ("updated_at", false)
        case .createdDesc: return ("created_at", true)
        case .createdAsc: return ("created_at", false)
        case .referenceAsc: return ("reference", false)
        case .referenceDesc: return ("reference", true)
        }
    }
}

public struct CaseFilter: Sendable {
    public var status: CaseStatus?
    public var caseType: CaseType?
    public var riskLevel: RiskLevel?
    public var assignee: UUID?
    public var identificationStatus: IdentificationStatus?
    public var updatedSince: Date?
    /// Only cases whose closure waits for a supervisor's approval (true) or none waits (false).
    public var closureRequested: Bool?
    /// Reference, person (through the blind index) and identification dates (`CaseSearchFilter.swift`).
    public var search: CaseSearch
    public var sort: CaseSort

    public init(status: CaseStatus? = nil, caseType: CaseType? = nil, riskLevel: RiskLevel? = nil, assignee: UUID? = nil,
                identificationStatus: IdentificationStatus? = nil, updatedSince: Date? = nil, closureRequested: Bool? = nil,
                search: CaseSearch = CaseSearch(), sort: CaseSort = .updatedDesc) {
        self.closureRequested = closureRequested
        self.search = search
        self.status = status
        self.caseType = caseType
        self.riskLevel = riskLevel
        self.assignee = assignee
        self.identificationStatus = identificationStatus
        self.updatedSince = updatedSince
        self.sort = sort
    }

    /// The query parameters this filter uses, by name (what a list's audit event records).
    public var names: [String] {
        let used: [(String, Bool)] = [
            ("status", status != nil), ("case_type", caseType != nil), ("risk_level", riskLevel != nil), ("assignee", assignee != nil),
            ("identification_status", identificationStatus != nil), ("updated_since", updatedSince != nil),
            ("closure_requested", closureRequested != nil),
        ]
        return used.filter(\.1).map(\.0) + search.names
    }
}

public enum CaseStore {
    static let columns = """
        id, organisation_id, reference, case_type, identification_status, identified_by, identified_on, risk_level, status,
        assigned_to, created_by, closure_requested_at, closure_requested_by, closure_reason, closed_at, closed_by, reopened_count,
        retention_due, anonymised_at, sex, birth_year, age_band, citizenship, languages, minor, disability,
        exploitation_types, labour_sector, means_of_control, recruiter_relation, country_of_exploitation, months_exploited,
        violence_types, perpetrator_relation, violence_location, recruitment_type, transit_countries, other_countries_of_exploitation,
        years_of_exploitation, trafficked_as_child, incident_date, reported_on, perpetrator_count, perpetrator_sex, perpetrator_age_group,
        (SELECT min(e.start_on) FROM service_episode e
          WHERE e.case_id = case_file.id AND e.status <> 'cancelled' AND e.start_on <= current_date) AS first_service_on,
        created_at, updated_at, version, identity_sealed, note_sealed, labour_sector_sealed, violence_location_sealed
        """

    /// Without the sealed columns: lists never open them, so they need not travel.
    static let summaryColumns = String(columns[..<(columns.range(of: ", identity_sealed")?.lowerBound ?? columns.endIndex)])

    public static func identityLabel(_ id: UUID) -> String { FieldSealing.label("case:", id, ":identity") }
    static func noteLabel(_ id: UUID) -> String { FieldSealing.label("case:", id, ":note") }
    static func labourSectorLabel(_ id: UUID) -> String { FieldSealing.label("case:", id, ":labour-sector") }
    static func violenceLocationLabel(_ id: UUID) -> String { FieldSealing.label("case:", id, ":violence-location") }

    /// Decodes a row; opens the identifying part and the free text only when `open` is set (the
    /// clear labour sector and violence location are read only as left by an older Haven, until
    /// start-up seals them).
    static func decode(_ row: PGRow, keys: KeyRing, open: Bool, openProfile: Bool? = nil) throws -> CaseFile {
        let id: UUID = try row.decode(at: 0)
        func enumValue<T: ClosedSet>(_ type: T.Type, _ column: Int) throws -> T {
            guard let value = T(rawValue: try row.decode(String.self, at: column)) else {
                throw StoreError.configuration("unexpected value in case_file column \(column)")
            }
            return value
        }
        func enumArray<T: ClosedSet>(_ type: T.Type, _ column: Int) throws -> [T]? {
            let values = try row.codes(T.self, at: column)
            return values.isEmpty ? nil : values
        }
        func list<T: PGDecodable>(_ type: T.Type, _ column: Int) throws -> [T]? {
            let values = try row.decodeArray(T.self, at: column) ?? []
            return values.isEmpty ? nil : values
        }
        let profile = PersonProfile(
            sex: try enumValue(Sex.self, 19), birthYear: try row.decode(at: 20),
            ageBand: (try row.decode(String?.self, at: 21)).flatMap(AgeBand.init(rawValue:)),
            citizenship: try row.decode(at: 22),
            languages: { let list = (try? row.decodeArray(String.self, at: 23)) ?? nil; return list?.isEmpty == false ? list : nil }(),
            minor: try row.decode(at: 24), disability: try row.decode(at: 25))
        let trafficking = TraffickingProfile(
            exploitationTypes: try enumArray(ExploitationType.self, 26), labourSector: try row.decode(at: 27),
            meansOfControl: try enumArray(MeansOfControl.self, 28),
            recruiterRelation: (try row.decode(String?.self, at: 29)).flatMap(RecruiterRelation.init(rawValue:)),
            countryOfExploitation: try row.decode(at: 30), monthsExploited: try row.decode(at: 31),
            recruitmentType: (try row.decode(String?.self, at: 35)).flatMap(RecruitmentType.init(rawValue:)),
            transitCountries: try list(String.self, 36), otherCountriesOfExploitation: try list(String.self, 37),
            yearsOfExploitation: try list(Int.self, 38), traffickedAsChild: try row.decode(at: 39))
        var violence = ViolenceProfile(
            types: try enumArray(ViolenceType.self, 32),
            perpetratorRelation: (try row.decode(String?.self, at: 33)).flatMap(PerpetratorRelation.init(rawValue:)),
            location: try row.decode(at: 34), incidentDate: try row.decode(at: 40), reportedOn: try row.decode(at: 41),
            perpetratorCount: try row.decode(at: 42),
            perpetratorSex: (try row.decode(String?.self, at: 43)).flatMap(PerpetratorSex.init(rawValue:)),
            perpetratorAgeGroup: (try row.decode(String?.self, at: 44)).flatMap(PerpetratorAgeGroup.init(rawValue:)))
        // An anonymised case keeps only the incident's month: days counted from it would mislead.
        if try row.decode(Date?.self, at: 18) == nil {
            violence.daysToFirstService = ViolenceProfile.elapsed(from: violence.incidentDate, toFirstService: try row.decode(at: 45))
        }
        let caseType = try enumValue(CaseType.self, 3)
        var file = CaseFile(
            id: id, organisationID: try row.decode(at: 1), reference: try row.decode(at: 2), caseType: caseType,
            identificationStatus: try enumValue(IdentificationStatus.self, 4), identifiedBy: try enumValue(IdentifiedBy.self, 5),
            identifiedOn: try row.decode(at: 6),
            riskLevel: try enumValue(RiskLevel.self, 7), status: try enumValue(CaseStatus.self, 8),
            assignee: try row.decode(at: 9), createdBy: try row.decode(at: 10),
            closureRequestedAt: try row.decode(at: 11), closureRequestedBy: try row.decode(at: 12), closureReason: try row.decode(at: 13),
            closedAt: try row.decode(at: 14), closedBy: try row.decode(at: 15), reopenedCount: try row.decode(at: 16),
            retentionDue: try row.decode(at: 17), anonymisedAt: try row.decode(at: 18),
            profile: profile, identity: nil,
            trafficking: trafficking == TraffickingProfile() ? nil : trafficking,
            violence: violence == ViolenceProfile() ? nil : violence,
            note: nil, createdAt: try row.decode(at: 46), updatedAt: try row.decode(at: 47), version: try row.decode(at: 48))
        if open {
            file.identity = try FieldSealing.open(try row.decode([UInt8]?.self, at: 49), as: PersonIdentity.self, identityLabel(id), keys: keys)
            file.note = try FieldSealing.openText(try row.decode([UInt8]?.self, at: 50), noteLabel(id), keys: keys)
        }
        if openProfile ?? open {
            if let sector = try FieldSealing.openText(try row.decode([UInt8]?.self, at: 51), labourSectorLabel(id), keys: keys) {
                var profile = file.trafficking ?? TraffickingProfile()
                profile.labourSector = sector
                file.trafficking = profile
            }
            if let location = try FieldSealing.openText(try row.decode([UInt8]?.self, at: 52), violenceLocationLabel(id), keys: keys) {
                var profile = file.violence ?? ViolenceProfile()
                profile.location = location
                file.violence = profile
            }
        }
        return file
    }

    /// The next reference number of the organisation's country for a year. Its own short statement, so
    /// concurrent intakes never hold the counter for the length of their transactions; a
    /// failed intake leaves a gap, never a duplicate.
    public static func allocateReference(organisation: UUID, year: Int, on connection: PGConnection) throws -> String {
        // Numbered per country and year across organisations: a reference is unique, so two
        // people in one partner's inbox never share one.
        let result = try connection.query("""
            INSERT INTO case_number (country, year, last_number)
            SELECT o.country, $2, 1 FROM organisation o WHERE o.id = $1
            ON CONFLICT (country, year) DO UPDATE SET last_number = case_number.last_number + 1
            RETURNING country, last_number
            """, [organisation, year])
        guard let row = result.first else { throw StoreError.notFound("no such organisation") }
        return CaseReference.make(country: try row.decode(at: 0), year: year, number: try row.decode(at: 1))
    }

    public static func create(_ draft: CaseDraft, id: UUID = UUID(), reference: String, actor: Actor, keys: KeyRing, today: CalendarDate, on connection: PGConnection) throws -> CaseFile {
        let profile = draft.person.profile.completed(today: today)
        let trafficking = draft.trafficking
        let violence = draft.violence
        let result = try connection.query("""
            INSERT INTO case_file (id, organisation_id, reference, case_type, identification_status, identified_by, identified_on,
                risk_level, assigned_to, created_by, sex, birth_year, age_band, citizenship, languages, minor, disability,
                identity_sealed, exploitation_types, labour_sector_sealed, means_of_control, recruiter_relation, country_of_exploitation,
                months_exploited, violence_types, perpetrator_relation, violence_location_sealed, note_sealed,
                recruitment_type, transit_countries, other_countries_of_exploitation, years_of_exploitation, trafficked_as_child,
                incident_date, reported_on, perpetrator_count, perpetrator_sex, perpetrator_age_group)
            VALUES ($1, $2, $3, $4, $5, $6, $7::date, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24,
                $25, $26, $27, $28, $29, $30, $31, $32::text[]::integer[], $33, $34::date, $35::date, $36, $37, $38)
            RETURNING
            """ + " " + columns, [
                id, actor.organisationID, reference, draft.caseType.rawValue, draft.identificationStatus.rawValue,
                draft.identifiedBy.rawValue, draft.identifiedOn.description, draft.riskLevel.rawValue, draft.assignee, actor.userID,
                profile.sex.rawValue, profile.birthYear, profile.ageBand?.rawValue, profile.citizenship,
                PGTextArray(profile.languages ?? []), profile.minor, profile.disability,
                try FieldSealing.seal(draft.person.identity, identityLabel(id), keys: keys),
                PGTextArray((trafficking?.exploitationTypes ?? []).map(\.rawValue)),
                try FieldSealing.sealText(trafficking?.labourSector, labourSectorLabel(id), keys: keys),
                PGTextArray((trafficking?.meansOfControl ?? []).map(\.rawValue)), trafficking?.recruiterRelation?.rawValue,
                trafficking?.countryOfExploitation, trafficking?.monthsExploited,
                PGTextArray((violence?.types ?? []).map(\.rawValue)), violence?.perpetratorRelation?.rawValue,
                try FieldSealing.sealText(violence?.location, violenceLocationLabel(id), keys: keys),
                try FieldSealing.sealText(draft.note, noteLabel(id), keys: keys),
            ] + standardFields(trafficking, violence))
        return try decode(result[0], keys: keys, open: true)
    }

    /// `openProfile` (by default as `open`): the profile's free text, for a reader the profile is released to.
    public static func find(_ id: UUID, keys: KeyRing, open: Bool, openProfile: Bool? = nil, forUpdate: Bool = false,
                            on connection: PGConnection) throws -> CaseFile? {
        let sql = findSQL + (forUpdate ? " FOR UPDATE" : "")
        return try connection.query(sql, [id]).first.map { try decode($0, keys: keys, open: open, openProfile: openProfile) }
    }

    /// The facts the access policy needs, with the actor's live break-glass grant if any.
    /// Runs as Haven itself so a case outside the actor's scope is still found (and the policy
    /// answers 404 for it, with an audit event), not mistaken for a missing one.
    public static func facts(_ id: UUID, actor: Actor, on connection: PGConnection) throws -> (facts: CaseFacts, status: CaseStatus)? {
        try facts(from: connection.query(factsSQL, [id]), actor: actor)
    }

    static let findSQL = "SELECT " + columns + " FROM case_file WHERE id = $1"
    static let factsSQL = "SELECT organisation_id, assigned_to, created_by, status, haven_has_break_glass(id) FROM haven_case_facts($1)"

    /// The case's facts and the case itself in one round trip (see `StoreTransaction.authorizeAndLoadCase`).
    static func factsAndFile(_ id: UUID, actor: Actor, keys: KeyRing, open: Bool, on connection: PGConnection)
        throws -> (found: (facts: CaseFacts, status: CaseStatus)?, file: () throws -> CaseFile?) {
        let results = try connection.pipeline([PGStatement(factsSQL, [id]), PGStatement(findSQL, [id])])
        guard results.count == 2 else { throw PGError(kind: .other, message: "a pipeline answered \(results.count) results for 2 statements") }
        return (try facts(from: results[0], actor: actor), { try results[1].first.map { try decode($0, keys: keys, open: open) } })
    }

    static func facts(from result: PGResult, actor: Actor) throws -> (facts: CaseFacts, status: CaseStatus)? {
        guard let row = result.first else { return nil }
        let grant: Bool = try row.decode(at: 4)
        let facts = CaseFacts(owningOrganisation: try row.decode(at: 0), assignee: try row.decode(at: 1), createdBy: try row.decode(at: 2),
                              breakGlassHolders: grant ? [actor.userID] : [])
        return (facts, try row.code(CaseStatus.self, at: 3))
    }

    /// Cases in the actor's own scope (break-glass and referred cases are not listed), one
    /// page in the chosen order. Summaries only: no identifying field is opened for a list.
    public static func list(_ filter: CaseFilter, actor: Actor, after cursor: String?, limit: Int, keys: KeyRing, on connection: PGConnection) throws -> Page<CaseFile> {
        var sql = SQLFilter()
        sql.restrict(to: AccessPolicy.scope(actor, .listCases), organisation: "organisation_id = ?", ownCases: "(assigned_to = ? OR created_by = ?)")
        if let status = filter.status { sql.add("status = ?", status.rawValue) }
        if let caseType = filter.caseType { sql.add("case_type = ?", caseType.rawValue) }
        if let riskLevel = filter.riskLevel { sql.add("risk_level = ?", riskLevel.rawValue) }
        if let assignee = filter.assignee { sql.add("assigned_to = ?", assignee) }
        if let identification = filter.identificationStatus { sql.add("identification_status = ?", identification.rawValue) }
        if let updatedSince = filter.updatedSince { sql.add("updated_at >= ?", updatedSince) }
        if let requested = filter.closureRequested { sql.add(requested ? "closure_requested_at IS NOT NULL" : "closure_requested_at IS NULL") }
        try sql.add(filter.search, keys: keys)
        let (column, descending) = filter.sort.sql
        let isTime = column != "reference"
        if let cursor {
            if isTime {
                let (micros, id) = try Cursor.timeAndID(cursor)
                sql.add((descending ? timeKeysetDescending : timeKeysetAscending)[column] ?? "false", micros, id)
            } else {
                let (reference, id) = try Cursor.keyAndID(cursor)
                sql.add(descending ? "(reference, id) < (?, ?::uuid)" : "(reference, id) > (?, ?::uuid)", reference, id)
            }
        }
        let order = " ORDER BY " + column + (descending ? " DESC, id DESC" : " ASC, id ASC")
        let limitPlaceholder = sql.bind(limit + 1)
        let result = try connection.query("SELECT " + summaryColumns + " FROM case_file" + sql.whereClause + order + " LIMIT " + limitPlaceholder,
                                          sql.parameters)
        var items = try result.rows.map { try decode($0, keys: keys, open: false) }
        var next: String?
        if items.count > limit {
            items.removeLast()
            if let last = items.last {
                let key: String
                switch column {
                case "created_at": key = String(AuditEvent.microseconds(last.createdAt))
                case "updated_at": key = String(AuditEvent.microseconds(last.updatedAt))
                default: key = last.reference
                }
                next = Cursor.encode([key, last.id.uuidString])
            }
        }
        return Page(items: items, nextCursor: next)
    }

    // Keyset conditions on microsecond timestamps, fixed per sortable column.
    static let timeKeysetDescending: [String: StaticString] = [
        "updated_at": "(updated_at, id) < (timestamptz 'epoch' + ?::bigint * interval '1 microsecond', ?::uuid)",
        "created_at": "(created_at, id) < (timestamptz 'epoch' + ?::bigint * interval '1 microsecond', ?::uuid)",
    ]
    static let timeKeysetAscending: [String: StaticString] = [
        "updated_at": "(updated_at, id) > (timestamptz 'epoch' + ?::bigint * interval '1 microsecond', ?::uuid)",
        "created_at": "(created_at, id) > (timestamptz 'epoch' + ?::bigint * interval '1 microsecond', ?::uuid)",
    ]

    /// The CTDC / GBVIMS core fields as parameters, in the order `create` and `save` bind them.
    static func standardFields(_ trafficking: TraffickingProfile?, _ violence: ViolenceProfile?) -> [(any PGEncodable)?] {
        [
            trafficking?.recruitmentType?.rawValue, PGTextArray(trafficking?.transitCountries ?? []),
            PGTextArray(trafficking?.otherCountriesOfExploitation ?? []),
            PGTextArray((trafficking?.yearsOfExploitation ?? []).map(String.init)), trafficking?.traffickedAsChild,
            violence?.incidentDate?.description, violence?.reportedOn?.description, violence?.perpetratorCount,
            violence?.perpetratorSex?.rawValue, violence?.perpetratorAgeGroup?.rawValue,
        ]
    }

    /// Writes the changed case back whole (after the caller applied a patch to it), bumping
    /// the version only if it is still `expectedVersion`.
    public static func save(_ file: CaseFile, expectedVersion: Int, keys: KeyRing, on connection: PGConnection) throws -> CaseFile? {
        let profile = file.profile
        let result = try connection.query("""
            UPDATE case_file SET case_type = $3, identification_status = $4, identified_by = $5, identified_on = $6::date,
                risk_level = $7, status = $8, assigned_to = $9, closure_requested_at = $10, closure_requested_by = $11,
                closure_reason = $12, closed_at = $13, closed_by = $14, reopened_count = $15, retention_due = $16::date,
                sex = $17, birth_year = $18, age_band = $19, citizenship = $20, languages = $21, minor = $22, disability = $23,
                identity_sealed = $24, exploitation_types = $25, labour_sector_sealed = $26, labour_sector = NULL, means_of_control = $27,
                recruiter_relation = $28, country_of_exploitation = $29, months_exploited = $30, violence_types = $31,
                perpetrator_relation = $32, violence_location_sealed = $33, violence_location = NULL, note_sealed = $34,
                recruitment_type = $35, transit_countries = $36, other_countries_of_exploitation = $37,
                years_of_exploitation = $38::text[]::integer[], trafficked_as_child = $39, incident_date = $40::date, reported_on = $41::date,
                perpetrator_count = $42, perpetrator_sex = $43, perpetrator_age_group = $44,
                updated_at = now(), version = version + 1
            WHERE id = $1 AND version = $2
            RETURNING
            """ + " " + columns, [
                file.id, expectedVersion, file.caseType.rawValue, file.identificationStatus.rawValue, file.identifiedBy.rawValue,
                file.identifiedOn.description, file.riskLevel.rawValue, file.status.rawValue, file.assignee,
                file.closureRequestedAt, file.closureRequestedBy, file.closureReason, file.closedAt, file.closedBy,
                file.reopenedCount, file.retentionDue?.description,
                profile.sex.rawValue, profile.birthYear, profile.ageBand?.rawValue, profile.citizenship,
                PGTextArray(profile.languages ?? []), profile.minor, profile.disability,
                try FieldSealing.seal(file.identity, identityLabel(file.id), keys: keys),
                PGTextArray((file.trafficking?.exploitationTypes ?? []).map(\.rawValue)),
                try FieldSealing.sealText(file.trafficking?.labourSector, labourSectorLabel(file.id), keys: keys),
                PGTextArray((file.trafficking?.meansOfControl ?? []).map(\.rawValue)), file.trafficking?.recruiterRelation?.rawValue,
                file.trafficking?.countryOfExploitation, file.trafficking?.monthsExploited,
                PGTextArray((file.violence?.types ?? []).map(\.rawValue)), file.violence?.perpetratorRelation?.rawValue,
                try FieldSealing.sealText(file.violence?.location, violenceLocationLabel(file.id), keys: keys),
                try FieldSealing.sealText(file.note, noteLabel(file.id), keys: keys),
            ] + standardFields(file.trafficking, file.violence))
        return try result.first.map { try decode($0, keys: keys, open: true) }
    }
}
