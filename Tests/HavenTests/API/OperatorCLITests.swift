import Foundation
import HavenCore
import HTTPTypes
import HummingbirdTesting
import Postgres
import Testing

/// The operator commands of issue 3, run as the built `haven` binary against a test database:
/// `haven org create`, `haven user create`, `haven audit verify`, and the session settings of
/// `haven serve`.
@Suite("Operator commands: organisations, users, audit verify")
struct OperatorCLITests {
    static func haven(_ arguments: [String], input: String? = nil, timeout: Double = 300) throws -> (status: Int32, output: String, errors: String) {
        try PrivacyCLITests.haven(arguments, input: input, timeout: timeout)
    }

    /// The test database, with the key file the test ring uses.
    static func database(_ app: TestApp, keyFolder: URL) throws -> [String] {
        let keyFile = keyFolder.appendingPathComponent("keys").path
        _ = FileManager.default.createFile(atPath: keyFile, contents: Data("k1 \(PrivacyKit.k1Material)\nk2 \(PrivacyKit.k2Material)\n".utf8),
                                           attributes: [.posixPermissions: 0o600])
        return ["--database-url", try app.database.appURL, "--keys-file", keyFile,
                "--schema-dir", PrivacyCLITests.packageRoot.appendingPathComponent("Schema").path]
    }

    static func keyFolder() throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("haven-keys-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return folder
    }

    @Test("org create prints the new id; user create takes the organisation by id or unique name and the password on standard input, and prints no TOTP secret: the user enrols at first login; user reset-second-factor clears one")
    func organisationsAndUsers() async throws {
        try await TestApp.run { app, client in
            let folder = try Self.keyFolder()
            defer { try? FileManager.default.removeItem(at: folder) }
            let database = try Self.database(app, keyFolder: folder)
            let tag = UUID().uuidString.prefix(6).lowercased()
            let name = "CLI Shelter \(tag)"

            let org = try Self.haven(["org", "create", "--name", name, "--type", "shelter", "--country", "MD", "--region", "Chisinau",
                                      "--service-types", "safe_accommodation,counselling"] + database)
            #expect(org.status == 0, "org create: \(org.errors)")
            let orgID = try #require(UUID(uuidString: org.output.trimmingCharacters(in: .whitespacesAndNewlines)), "prints the id: \(org.output)")
            #expect(try app.count("organisation", where: "id = $1 AND type = 'shelter' AND country = 'MD' AND service_types = '{safe_accommodation,counselling}'",
                                  [orgID]) == 1)
            let badType = try Self.haven(["org", "create", "--name", "Other \(tag)", "--type", "spaceship", "--country", "MD"] + database)
            #expect(badType.status != 0 && badType.errors.contains("--type"), "\(badType.errors)")

            let password = "synthetic cli passphrase \(tag)"
            let caseworker = try Self.haven(["user", "create", "--org", orgID.uuidString, "--role", "caseworker", "--username", "cli.cw.\(tag)",
                                             "--password-stdin"] + database, input: password + "\n")
            #expect(caseworker.status == 0, "user create: \(caseworker.errors)")
            #expect(!caseworker.output.contains("otpauth://"), "a caseworker needs no second factor: \(caseworker.output)")
            #expect(!(caseworker.output + caseworker.errors).contains(password), "the password is never echoed")
            let login = try await LoginTests.login(client, "cli.cw.\(tag)", password)
            #expect(login.status == .ok, "the password read from standard input logs in: \(login.text)")

            let supervisor = try Self.haven(["user", "create", "--org", name.lowercased(), "--role", "supervisor", "--username", "cli.sv.\(tag)",
                                             "--password-stdin"] + database, input: password + "\n")
            #expect(supervisor.status == 0, "user create by organisation name: \(supervisor.errors)")
            #expect(!supervisor.output.contains("otpauth") && !supervisor.output.contains("secret="), "no secret handed over: \(supervisor.output)")
            #expect(try app.count("app_user", where: "username = $1 AND organisation_id = $2 AND totp_secret IS NULL", ["cli.sv.\(tag)", orgID]) == 1)
            let first = try await LoginTests.login(client, "cli.sv.\(tag)", password)
            #expect(try first.json()["second_factor_enrolment_required"] as? Bool == true, "the first login enrols: \(first.text)")

            try app.ownerScript("UPDATE app_user SET totp_secret = '\\x00'::bytea WHERE username = $1", ["cli.sv.\(tag)"])
            let reset = try Self.haven(["user", "reset-second-factor", "--username", "cli.sv.\(tag)"] + database)
            #expect(reset.status == 0, "user reset-second-factor: \(reset.errors)")
            #expect(try app.count("app_user", where: "username = $1 AND totp_secret IS NULL", ["cli.sv.\(tag)"]) == 1)
            #expect(try app.count("audit_event", where: "subtype = 'user.second-factor-reset' AND detail::jsonb ->> 'via' = 'cli'") == 1)

            let before = try app.count("app_user")
            let noStdin = try Self.haven(["user", "create", "--org", orgID.uuidString, "--role", "caseworker", "--username", "cli.x.\(tag)"] + database)
            #expect(noStdin.status != 0 && noStdin.errors.contains("--password-stdin"), "\(noStdin.errors)")
            let unknownOrg = try Self.haven(["user", "create", "--org", "No Such Org \(tag)", "--role", "caseworker", "--username", "cli.y.\(tag)",
                                             "--password-stdin"] + database, input: password + "\n")
            #expect(unknownOrg.status != 0 && unknownOrg.errors.contains("--org"), "\(unknownOrg.errors)")
            let weak = try Self.haven(["user", "create", "--org", orgID.uuidString, "--role", "caseworker", "--username", "cli.z.\(tag)",
                                       "--password-stdin"] + database, input: "short\n")
            #expect(weak.status != 0 && weak.errors.contains("password"), "\(weak.errors)")
            #expect(try app.count("app_user") == before, "nothing created by a refused command")
        }
    }

    @Test("audit verify: exit 0 and OK on an intact trail; exit 1 naming the event after an edit")
    func auditVerify() async throws {
        try await TestApp.run { app, client in
            let folder = try Self.keyFolder()
            defer { try? FileManager.default.removeItem(at: folder) }
            let database = try Self.database(app, keyFolder: folder)
            let trail = try await AuditTamperTests.prepare(app, client)
            let intact = try Self.haven(["audit", "verify"] + database)
            #expect(intact.status == 0 && intact.output.hasPrefix("OK: "), "\(intact.output) \(intact.errors)")

            let victim = trail.sealed[trail.sealed.count / 2]
            try AuditTamperTests.tamper(app) { owner in
                _ = try owner.execute("UPDATE audit_event SET purpose = purpose || 'x' WHERE id = $1", [victim])
            }
            let tampered = try Self.haven(["audit", "verify"] + database)
            #expect(tampered.status == 1, "\(tampered.output) \(tampered.errors)")
            #expect(tampered.output.hasPrefix("TAMPERED: ") && tampered.output.contains("event \(victim)"), "\(tampered.output)")
        }
    }

    @Test(arguments: [
        (["--token-idle-minutes", "0"], "--token-idle-minutes"),
        (["--token-lifetime-hours", "1", "--token-idle-minutes", "90"], "--token-lifetime-hours"),
        (["--lockout-failures", "0"], "--lockout-failures"),
        (["--break-glass-minutes", "100000"], "--break-glass-minutes"),
    ])
    func serveRefusesSessionSettingsOutOfBounds(arguments: [String], flag: String) throws {
        // Refused before anything starts; were it not, the embedded database would start and
        // the timeout stop it.
        let result = try Self.haven(["serve", "--port", "0", "--data-dir", FileManager.default.temporaryDirectory
            .appendingPathComponent("haven-serve-\(UUID().uuidString)").path] + arguments, timeout: 60)
        #expect(result.status != 0, "\(result.output)")
        #expect(result.errors.contains(flag), "names the setting: \(result.errors)")
    }
}
