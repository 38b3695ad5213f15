import Foundation
import HavenCore
import HavenStore
import Logging
import Postgres
import Sealing

/// Synthetic data for development and benchmarks: organisations, users, and cases with
/// consents, needs, services, referrals and audit events. Every person is made up from
/// syllables; nothing resembles a real record. Bulk inserts through `unnest`, a few thousand
/// rows per statement, so a million cases take minutes. Every seeded user shares `password`,
/// which is why this lives in a target of its own that only the development command links.
public struct Seeder: Sendable {
    public static let password = "synthetic-seed-passphrase"
    /// Seeded organisations are named this and a number: how a later seed knows an earlier one.
    static let organisationNamePrefix = "Seed organisation "

    public struct Summary: Sendable, Codable {
        public struct Login: Sendable, Codable {
            public var username: String
            public var password: String
            public var role: String
            public var organisationId: String
        }

        public var organisations: Int
        public var cases: Int
        public var logins: [Login]
    }

    let store: Store
    let credentials: Credentials
    let logger: Logger

    public init(store: Store, credentials: Credentials, logger: Logger) {
        self.store = store
        self.credentials = credentials
        self.logger = logger
    }

    /// Seeds `organisations` organisations (each with a supervisor, caseworkers and a partner
    /// user) and `cases` cases spread over them. Refuses (`SeedRefusal`), before writing
    /// anything, a database that holds cases, unless `addingToEarlierSeed` and an earlier seed
    /// is there.
    public func seed(
        cases: Int, organisations: Int = 20, caseworkersPerOrganisation: Int = 5, batch: Int = 2_000, addingToEarlierSeed: Bool = false
    ) async throws -> Summary {
        if let refusal = try await SeedRefusal.check(store: store, addingToEarlierSeed: addingToEarlierSeed) { throw refusal }
        try await AuditKeyCheck.record(store: store)
        let password = Seeder.password
        let hash = try await credentials.hash(password)
        var rng = SystemRandomNumberGenerator()
        let services = ServiceType.allCases.filter { $0 != .other }

        // Organisations and users.
        let (orgs, workers, logins) = try await store.transaction(.system) { transaction -> ([Organisation], [UUID: [UUID]], [Summary.Login]) in
            var orgs: [Organisation] = []
            var workers: [UUID: [UUID]] = [:]
            var logins: [Summary.Login] = []
            var generator = SystemRandomNumberGenerator()
            let existing = try transaction.connection.query("SELECT count(*) FROM organisation")[0].decode(Int.self, at: 0)
            for index in 0..<organisations {
                let types: [OrganisationType] = [.ngo, .shelter, .health, .legal, .government, .internationalOrg]
                let type = types[index % types.count]
                let offered = index == 0 ? services : Array(services.shuffled(using: &generator).prefix(3))
                let mandate = Mandate(serviceTypes: offered, regions: [], acceptsReferrals: true)
                let draft = OrganisationDraft(name: Seeder.organisationNamePrefix + "\(existing + index + 1)", type: type, country: "MD",
                                              region: ["Chisinau", "Balti", "Cahul", "Orhei"][index % 4], mandate: mandate)
                let org = try OrganisationStore.create(draft, on: transaction.connection)
                orgs.append(org)
                for (role, count) in [(Role.supervisor, 1), (.caseworker, caseworkersPerOrganisation), (.partner, 1)] {
                    for n in 0..<count {
                        let username = "seed\(existing + index + 1)-\(role.rawValue)\(n + 1)"
                        let user = UserDraft(organisationId: org.id, role: role, username: username, password: password)
                        let created = try UserStore.create(user, passwordHash: hash, mustChangePassword: false, on: transaction.connection)
                        if role == .caseworker { workers[org.id, default: []].append(created.id) }
                        if role != .supervisor {
                            logins.append(.init(username: username, password: password, role: role.rawValue, organisationId: org.id.uuidString))
                        }
                    }
                }
            }
            return (orgs, workers, logins)
        }

        var made = 0
        // References number on from what the country has used (an earlier seed, real intakes).
        var counters: [String: Int] = try await store.transaction(.system) { transaction in
            try transaction.connection.query("SELECT country, last_number FROM case_number WHERE year = 2026").rows.reduce(into: [:]) { counters, row in
                counters[try row.decode(String.self, at: 0)] = try row.decode(Int.self, at: 1)
            }
        }
        var perOrganisation: [UUID: Int] = [:]
        while made < cases {
            let size = min(batch, cases - made)
            var plan: [SeedCase] = []
            plan.reserveCapacity(size)
            for _ in 0..<size {
                let org = orgs[Int.random(in: 0..<orgs.count, using: &rng)]
                counters[org.country, default: 0] += 1
                // Caseworkers take the organisation's cases in turn, and each one's first case is
                // open: every seeded caseworker login has work to list (the drills log in as one).
                let staff = workers[org.id] ?? []
                let turn = perOrganisation[org.id, default: 0]
                perOrganisation[org.id] = turn + 1
                let worker = staff.isEmpty ? UUID() : staff[turn % staff.count]
                var recipient = orgs[Int.random(in: 0..<orgs.count, using: &rng)]
                if recipient.id == org.id { recipient = orgs[((orgs.firstIndex(of: org) ?? 0) + 1) % orgs.count] }
                var seeded = SeedCase.random(organisation: org, number: counters[org.country] ?? 1, worker: worker, recipient: recipient, using: &rng)
                if turn < staff.count { seeded.status = .open }
                plan.append(seeded)
            }
            let batchPlan = plan
            try await store.transaction(.system) { transaction in
                try Seeder.insert(batchPlan, in: transaction)
            }
            made += size
            if made % 50_000 < size { logger.info("seeded", metadata: ["cases": "\(made)"]) }
        }
        let finalCounters = counters
        try await store.transaction(.system) { transaction in
            for (country, last) in finalCounters {
                try transaction.connection.execute("""
                    INSERT INTO case_number (country, year, last_number) VALUES ($1, 2026, $2)
                    ON CONFLICT (country, year) DO UPDATE SET last_number = greatest(case_number.last_number, $2)
                    """, [country, last])
            }
        }
        return Summary(organisations: orgs.count, cases: made, logins: logins)
    }

    /// One synthetic case and what hangs off it.
    struct SeedCase: Sendable {
        var id = UUID()
        var organisation: UUID
        var reference: String
        var caseType: CaseType
        var identification: IdentificationStatus
        var identifiedBy: IdentifiedBy
        var identifiedOn: CalendarDate
        var risk: RiskLevel
        var status: CaseStatus
        var worker: UUID
        var sex: Sex
        var birthYear: Int
        var citizenship: String
        var exploitation: [ExploitationType]
        var violence: [ViolenceType]
        var identity: PersonIdentity
        var statistics: Bool
        var updatedAt: Date
        var recipient: UUID
        var referred: Bool
        var referralStatus: ReferralStatus
        var needService: ServiceType

        static func random(organisation: Organisation, number: Int, worker: UUID, recipient: Organisation, using rng: inout SystemRandomNumberGenerator) -> SeedCase {
            let syllables = ["an", "ba", "ri", "to", "mel", "sa", "vi", "ne", "lo", "da", "ru", "ka", "mi", "pe", "zo"]
            func name() -> String {
                let count = Int.random(in: 2...3, using: &rng)
                let text = (0..<count).map { _ in syllables.randomElement(using: &rng) ?? "xa" }.joined()
                return text.prefix(1).uppercased() + text.dropFirst()
            }
            let caseType = [CaseType.trafficking, .trafficking, .domesticViolence, .both].randomElement(using: &rng) ?? .trafficking
            let year = Int.random(in: 2023...2026, using: &rng)
            let day = CalendarDate(year: year, month: Int.random(in: 1...(year == 2026 ? 10 : 12), using: &rng), day: Int.random(in: 1...28, using: &rng))
                ?? CalendarDate.of(Date())
            let birthYear = Int.random(in: 1960...2012, using: &rng)
            let services = recipient.mandate.serviceTypes.isEmpty ? [ServiceType.counselling] : recipient.mandate.serviceTypes
            return SeedCase(
                organisation: organisation.id, reference: CaseReference.make(country: organisation.country, year: 2026, number: number),
                caseType: caseType, identification: IdentificationStatus.allCases.randomElement(using: &rng) ?? .presumed,
                identifiedBy: IdentifiedBy.allCases.randomElement(using: &rng) ?? .ngo, identifiedOn: day,
                risk: RiskLevel.allCases.randomElement(using: &rng) ?? .medium,
                status: Int.random(in: 0..<10, using: &rng) < 8 ? .open : .closed, worker: worker,
                sex: [Sex.female, .female, .female, .male, .other, .unknown].randomElement(using: &rng) ?? .unknown,
                birthYear: birthYear, citizenship: ["MD", "MD", "MD", "UA", "RO", "RU", "TR"].randomElement(using: &rng) ?? "MD",
                exploitation: caseType == .domesticViolence ? [] : [ExploitationType.allCases.randomElement(using: &rng) ?? .other],
                violence: caseType == .trafficking ? [] : [ViolenceType.allCases.randomElement(using: &rng) ?? .psychologicalAbuse],
                identity: PersonIdentity(givenName: name(), familyName: name(), dateOfBirth: CalendarDate(year: birthYear, month: 1, day: 1),
                                         contact: .init(phone: "+000 \(Int.random(in: 1_000_000...9_999_999, using: &rng))")),
                statistics: Int.random(in: 0..<10, using: &rng) < 8,
                updatedAt: Date().addingTimeInterval(-Double.random(in: 0...(86_400 * 900), using: &rng)),
                recipient: recipient.id, referred: Int.random(in: 0..<10, using: &rng) < 3,
                referralStatus: [ReferralStatus.requested, .received, .accepted, .inProgress, .completed, .rejected].randomElement(using: &rng) ?? .requested,
                needService: services.randomElement(using: &rng) ?? .counselling)
        }
    }

    static func hex(_ bytes: [UInt8]) -> String { "\\x" + Hex.encode(bytes) }

    static func insert(_ plan: [SeedCase], in transaction: StoreTransaction) throws {
        let connection = transaction.connection, keys = transaction.keys
        func column(_ value: (SeedCase) throws -> String) rethrows -> PGTextArray { PGTextArray(try plan.map(value)) }
        func optional(_ value: (SeedCase) throws -> String?) rethrows -> PGTextArray { PGTextArray(try plan.map(value)) }
        let micros: (Date) -> String = { String(AuditEvent.microseconds($0)) }
        try connection.execute("""
            INSERT INTO case_file (id, organisation_id, reference, case_type, identification_status, identified_by, identified_on, risk_level,
                status, closed_at, closed_by, retention_due, assigned_to, created_by, sex, birth_year, age_band, citizenship, minor,
                identity_sealed, exploitation_types, violence_types, statistics_consent, created_at, updated_at)
            SELECT id::uuid, org::uuid, ref, ct, ids, idby, idon::date, risk, st,
                   CASE WHEN st = 'closed' THEN timestamptz 'epoch' + upd::bigint * interval '1 microsecond' END,
                   CASE WHEN st = 'closed' THEN worker::uuid END,
                   CASE WHEN st = 'closed' THEN (timestamptz 'epoch' + upd::bigint * interval '1 microsecond')::date + interval '5 years' END,
                   worker::uuid, worker::uuid, sex, by::int, band, cit, by::int > 2008, identity::bytea, ex::text[], vi::text[], stats::boolean,
                   timestamptz 'epoch' + upd::bigint * interval '1 microsecond', timestamptz 'epoch' + upd::bigint * interval '1 microsecond'
            FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[],
                        $10::text[], $11::text[], $12::text[], $13::text[], $14::text[], $15::text[], $16::text[], $17::text[], $18::text[],
                        $19::text[])
                 AS t(id, org, ref, ct, ids, idby, idon, risk, st, worker, sex, by, band, cit, identity, ex, vi, stats, upd)
            """, [
                column { $0.id.uuidString }, column { $0.organisation.uuidString }, column(\.reference), column(\.caseType.rawValue),
                column(\.identification.rawValue), column(\.identifiedBy.rawValue), column(\.identifiedOn.description), column(\.risk.rawValue),
                column(\.status.rawValue), column { $0.worker.uuidString }, column(\.sex.rawValue), column { String($0.birthYear) },
                column { AgeBand.of(age: 2026 - $0.birthYear).rawValue }, column(\.citizenship),
                try column { hex(try FieldSealing.seal($0.identity, CaseStore.identityLabel($0.id), keys: keys) ?? []) },
                column { "{" + $0.exploitation.map(\.rawValue).joined(separator: ",") + "}" },
                column { "{" + $0.violence.map(\.rawValue).joined(separator: ",") + "}" },
                column { $0.statistics ? "t" : "f" }, column { micros($0.updatedAt) },
            ])
        try connection.execute("""
            INSERT INTO consent (id, case_id, grantor, method, granted_at, statistics, provisions, created_by)
            SELECT gen_random_uuid(), id::uuid, 'self', 'written', now() - interval '1 day', stats::boolean,
                   jsonb_build_array(jsonb_build_object('recipient_organisation', upper(recipient), 'purpose', 'services',
                       'categories', jsonb_build_array('profile', 'needs', 'contact'))), worker::uuid
            FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) AS t(id, stats, recipient, worker)
            """, [column { $0.id.uuidString }, column { $0.statistics ? "t" : "f" }, column { $0.recipient.uuidString }, column { $0.worker.uuidString }])
        try connection.execute("""
            INSERT INTO need (id, case_id, domain, service_type, priority, due_at, created_by)
            SELECT gen_random_uuid(), id::uuid, 'personal', svc, 'normal', now() + interval '14 days', worker::uuid
            FROM unnest($1::text[], $2::text[], $3::text[]) AS t(id, svc, worker)
            """, [column { $0.id.uuidString }, column(\.needService.rawValue), column { $0.worker.uuidString }])
        try connection.execute("""
            INSERT INTO service_episode (id, case_id, type, provider_organisation_id, status, start_on, due_on, created_by)
            SELECT gen_random_uuid(), id::uuid, svc, org::uuid, 'in_progress', current_date - 30, current_date + (random() * 60 - 20)::int, worker::uuid
            FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) AS t(id, svc, org, worker)
            """, [column { $0.id.uuidString }, column(\.needService.rawValue), column { $0.organisation.uuidString }, column { $0.worker.uuidString }])
        let referred = plan.filter { $0.referred && $0.status == .open }
        if !referred.isEmpty {
            func referredColumn(_ value: (SeedCase) -> String) -> PGTextArray { PGTextArray(referred.map(value)) }
            try connection.execute("""
                WITH new AS (
                    INSERT INTO referral (id, case_id, case_organisation_id, case_reference, service_type, from_organisation_id, from_user_id,
                        to_organisation_id, consent_id, shared_categories, priority, due_at, status, created_at, updated_at)
                    SELECT gen_random_uuid(), t.id::uuid, t.org::uuid, t.ref, t.svc, t.org::uuid, t.worker::uuid, t.recipient::uuid,
                           (SELECT k.id FROM consent k WHERE k.case_id = t.id::uuid LIMIT 1), '{profile,needs}', 'normal',
                           now() + interval '14 days', t.status, now() - interval '10 days', now() - (random() * interval '9 days')
                    FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[])
                         AS t(id, org, ref, svc, worker, recipient, status)
                    RETURNING id, status, from_user_id, from_organisation_id, created_at, updated_at
                )
                INSERT INTO referral_transition (referral_id, from_status, to_status, actor_user, actor_organisation, at)
                SELECT id, NULL, 'requested', from_user_id, from_organisation_id, created_at FROM new
                UNION ALL
                SELECT id, 'requested', status, NULL, NULL, updated_at FROM new WHERE status <> 'requested'
                """, [referredColumn { $0.id.uuidString }, referredColumn { $0.organisation.uuidString }, referredColumn(\.reference),
                      referredColumn(\.needService.rawValue), referredColumn { $0.worker.uuidString }, referredColumn { $0.recipient.uuidString },
                      referredColumn(\.referralStatus.rawValue)])
        }
        // One audit event per case, MAC'd as the application writes them.
        let events = plan.map { seed in
            AuditEvent(recorded: seed.updatedAt, action: .create, subtype: .caseCreate, actorUser: seed.worker, actorOrganisation: seed.organisation,
                       actorRole: .caseworker, entityKind: .caseFile, entityID: seed.id.lowercasedString, caseID: seed.id,
                       subjectOrganisation: seed.organisation, purpose: .caseManagement, detail: ["seeded": true])
        }
        try transaction.auditBatch(events)
    }
}
