import Foundation
import HavenAPI
import HavenCore
import HavenStore
import HummingbirdTesting
import Logging
import Postgres
import Sealing
import Testing

/// Fixtures for the privacy suites (issue 5): key rings other than the test ring, a second
/// application on the same database with its own key ring, `pg_dump` of the test database,
/// seeding of cases with statistics consent, and peeks at sealed columns as the schema owner.
enum PrivacyKit {
    // MARK: Key rings

    static let k1Material = String(repeating: "11", count: 32)
    static let k2Material = String(repeating: "22", count: 32)

    /// Only k1: seals under k1, cannot open what k2 sealed.
    static let onlyK1: KeyRing = try! KeyRing(text: "k1 \(k1Material)\n")
    /// Only k2: opens what the test ring (k1, k2) seals now.
    static let onlyK2: KeyRing = try! KeyRing(text: "k2 \(k2Material)\n")
    /// A ring whose k2 is the wrong key (same id, other material).
    static let wrongK2: KeyRing = try! KeyRing(text: "k1 \(k1Material)\nk2 \(String(repeating: "33", count: 32))\n")

    // MARK: Another application on the same database

    /// Serves the real application on `app`'s database, but with `keys` as its key ring, and
    /// runs `body` with a client for it. Sessions live in the database, so a token from
    /// `TestApp`'s client works here too.
    static func withApp<T: Sendable>(
        _ app: TestApp, keys: KeyRing, _ body: @Sendable @escaping (Store, any TestClientProtocol) async throws -> T
    ) async throws -> T {
        let pool = try app.database.pool(size: 2)
        let store = try Store(pool: pool, keys: keys, logger: TestApp.logger)
        let application = buildApplication(
            configuration: app.configuration,
            dependencies: HavenDependencies(store: store, schema: DatabaseSchema(try TestSchema.migrator()), hasher: app.credentials),
            logger: TestApp.logger)
        do {
            let value = try await application.test(.router) { client in try await body(store, client) }
            await pool.close()
            return value
        } catch {
            await pool.close()
            throw error
        }
    }

    /// A store on `app`'s database with another key ring, for calls below the HTTP layer.
    static func withStore<T: Sendable>(_ app: TestApp, keys: KeyRing, _ body: (Store) async throws -> T) async throws -> T {
        let pool = try app.database.pool(size: 2)
        let store = try Store(pool: pool, keys: keys, logger: TestApp.logger)
        do {
            let value = try await body(store)
            await pool.close()
            return value
        } catch {
            await pool.close()
            throw error
        }
    }

    // MARK: pg_dump

    static let pgDumpPath = "/usr/lib/postgresql/15/bin/pg_dump"

    /// A plain-text `pg_dump` of the whole test database (schema and data), as the superuser.
    static func pgDump(_ app: TestApp) throws -> String {
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("haven-dump-\(UUID().uuidString).sql")
        defer { try? FileManager.default.removeItem(at: output) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: pgDumpPath)
        process.arguments = ["--no-password", "--file", output.path, "--dbname", try app.database.superuserDatabaseURL]
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let errorData = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw TestFailure("pg_dump failed (\(process.terminationStatus)): \(String(decoding: errorData, as: UTF8.self))")
        }
        return try String(contentsOf: output, encoding: .utf8)
    }

    /// The forms a value could take in a dump: as is, as the hex of its UTF-8 bytes (bytea
    /// output, either case), base64, and JSON-escaped.
    static func encodings(of value: String) -> [(String, String)] {
        let bytes = Array(value.utf8)
        let hex = bytes.map { String(format: "%02x", $0) }.joined()
        return [
            ("plain", value), ("lowercase", value.lowercased()), ("hex", hex), ("HEX", hex.uppercased()),
            ("base64", Data(bytes).base64EncodedString()),
        ]
    }

    // MARK: Synthetic people with letter-only names (the blind index ignores digits)

    static func letters(_ count: Int = 10) -> String {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz")
        return String((0..<count).map { _ in alphabet[Int.random(in: 0..<alphabet.count)] })
    }

    /// A JSON identity for intake.
    static func identity(given: String, family: String, phone: String, address: String, document: String, email: String? = nil) -> [String: Any] {
        var contact: [String: Any] = ["phone": phone]
        if let email { contact["email"] = email }
        return [
            "given_name": given, "family_name": family, "date_of_birth": "1998-06-15", "contact": contact, "address": address,
            "identity_documents": [["type": "passport", "number": document, "issuing_country": "MD"]],
        ]
    }

    /// An intake body with the given identity, birth year, sex and case type.
    static func intake(identity: [String: Any]?, birthYear: Int = 1998, sex: String = "female", caseType: String = "trafficking",
                       note: String? = nil) -> [String: Any] {
        var body = CaseKit.intake(CaseKit.Person(), caseType: caseType, note: note)
        var person = body["person"] as? [String: Any] ?? [:]
        if let identity { person["identity"] = identity } else { person.removeValue(forKey: "identity") }
        person["birth_year"] = birthYear
        person["sex"] = sex
        body["person"] = person
        return body
    }

    /// A consent that only allows non-identifying statistics (or, with `recipient`, also a
    /// referral to it).
    static func statisticsConsent(_ statistics: Bool = true, recipient: UUID? = nil, categories: [String] = ["needs", "profile"]) -> [String: Any] {
        var body: [String: Any] = ["grantor": "self", "method": "verbal", "statistics": statistics, "provisions": [] as [Any]]
        if let recipient {
            body["provisions"] = [["recipient_organisation": recipient.uuidString, "purpose": "referral for services", "categories": categories]]
        }
        return body
    }

    struct Seeded: Sendable {
        var id: UUID
        var reference: String
        var person: CaseKit.Person
    }

    /// Creates `count` cases of one kind as `member`, each with a statistics consent unless
    /// told otherwise.
    static func seed(
        _ client: any TestClientProtocol, _ member: CaseKit.Member, count: Int, caseType: String = "trafficking", sex: String = "female",
        birthYear: Int = 1999, consent: Bool = true, sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> [Seeded] {
        var made: [Seeded] = []
        for _ in 0..<count {
            let person = CaseKit.Person()
            var body = CaseKit.intake(person, caseType: caseType)
            var profile = body["person"] as? [String: Any] ?? [:]
            profile["sex"] = sex
            profile["birth_year"] = birthYear
            body["person"] = profile
            let (id, reference) = try await CaseKit.createCase(client, member, body, sourceLocation: sourceLocation)
            if consent {
                _ = try await CaseKit.create(client, member.token, "/v1/cases/\(id.uuidString)/consents", statisticsConsent(),
                                             sourceLocation: sourceLocation)
            }
            made.append(Seeded(id: id, reference: reference, person: person))
        }
        return made
    }

    /// The year published figures are read for: two years back, published whatever today is
    /// (`ReportRelease`: a period is published 30 days after it ends).
    static var publishedYear: Int { CaseKit.thisYear - 2 }

    /// Moves everything recorded so far to mid-June of `publishedYear`, as if registered then:
    /// identification dates, registrations, referrals and their moves shift by one interval, so
    /// every duration between them stays as it was. Published figures count a case only when it
    /// was registered by its month's publication day, and only for a period already published.
    static func moveToPublishedYear(_ app: TestApp) throws {
        let shift = "(now() - make_timestamptz(\(publishedYear), 6, 15, 12, 0, 0, 'UTC'))"
        for sql in ["UPDATE case_file SET identified_on = (identified_on - \(shift))::date, created_at = created_at - \(shift)",
                    "UPDATE referral SET created_at = created_at - \(shift), updated_at = updated_at - \(shift), due_at = due_at - \(shift)",
                    "UPDATE referral_transition SET at = at - \(shift)"] {
            _ = try CaseKit.ownerRows(app, sql)
        }
    }

    // MARK: Database peeks (as the owner, which row-level security does not filter)

    static func bytes(_ app: TestApp, _ sql: String, _ parameters: [(any PGEncodable)?] = []) throws -> [[UInt8]?] {
        let connection = try app.database.connect(as: DatabaseSetup.ownerRole)
        return try connection.query(sql, parameters).rows.map { try $0.decode([UInt8]?.self, at: 0) }
    }

    static func execute(_ app: TestApp, _ sql: String, _ parameters: [(any PGEncodable)?] = []) throws -> Int {
        let connection = try app.database.connect(as: DatabaseSetup.ownerRole)
        return try connection.execute(sql, parameters)
    }

    /// Every sealed column of the schema: bytea columns named `*_sealed`, and TOTP secrets.
    static func sealedColumns(_ app: TestApp) throws -> [(table: String, column: String)] {
        try CaseKit.ownerRows(app, """
            SELECT table_name::text, column_name::text FROM information_schema.columns
            WHERE table_schema = 'public' AND data_type = 'bytea' AND (column_name LIKE '%\\_sealed' OR column_name = 'totp_secret')
            ORDER BY 1, 2
            """).map { ($0[0] ?? "", $0[1] ?? "") }
    }

    /// The key ids named by the sealed values of every sealed column, with how many values name each.
    static func keyIDsInUse(_ app: TestApp) throws -> [String: Int] {
        var used: [String: Int] = [:]
        for (table, column) in try sealedColumns(app) {
            for value in try bytes(app, "SELECT \(column) FROM \(table) WHERE \(column) IS NOT NULL") {
                guard let value else { continue }
                used[(try? KeyRing.keyID(of: value)) ?? "<malformed>", default: 0] += 1
            }
        }
        return used
    }

    // MARK: JSON

    static func isAbsent(_ value: Any?) -> Bool { value == nil || value is NSNull }

    /// A timestamp as the API writes it (RFC 3339, with or without fractional seconds).
    static func date(_ text: Any?) -> Date? {
        guard let text = text as? String else { return nil }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = formatter.date(from: text) { return date }
        return ISO8601DateFormatter().date(from: text)
    }

    static func object(_ value: Any?) -> [String: Any] { value as? [String: Any] ?? [:] }

    static func problemType(_ response: TestResponse) -> String? { (try? response.json())?["type"] as? String }

    /// A six-digit code that is none of the user's currently acceptable TOTP codes.
    static func wrongTOTP(_ user: TestApp.TestUser) -> String {
        let valid = Set((-2...3).compactMap { TestApp.totp(user, offset: Int64($0)) })
        var candidate = 123_456
        while valid.contains(String(format: "%06d", candidate)) { candidate += 1 }
        return String(format: "%06d", candidate)
    }

    static func auditCount(_ app: TestApp, subtype: String, caseID: UUID? = nil, actor: UUID? = nil) throws -> Int {
        var condition = "subtype = $1"
        var parameters: [(any PGEncodable)?] = [subtype]
        if let caseID { parameters.append(caseID); condition += " AND case_id = $\(parameters.count)" }
        if let actor { parameters.append(actor); condition += " AND actor_user = $\(parameters.count)" }
        return try CaseKit.count(app, "audit_event", where: condition, parameters)
    }
}
