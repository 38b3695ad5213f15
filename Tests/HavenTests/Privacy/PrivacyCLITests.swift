import Foundation
import HavenCore
import HavenStore
import HTTPTypes
import HummingbirdTesting
import Sealing
import Testing

/// The operator commands of issue 5, run as the built `haven` binary against a test database:
/// `haven keys add`, `haven keys rotate` and `haven retention run`.
@Suite("Privacy: operator commands")
struct PrivacyCLITests {
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../..").standardizedFileURL

    static var binary: URL { packageRoot.appendingPathComponent(".build/debug/haven") }

    /// Runs `haven` with `arguments` (and `input` on its standard input); returns the exit
    /// status, standard output and standard error. A command still running after `timeout`
    /// seconds is stopped and fails the test rather than hanging it.
    static func haven(_ arguments: [String], input: String? = nil, timeout: Double = 300) throws -> (status: Int32, output: String, errors: String) {
        guard FileManager.default.isExecutableFile(atPath: binary.path) else {
            throw TestFailure("no haven binary at \(binary.path): build with `swift build --build-tests`")
        }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("haven-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let out = directory.appendingPathComponent("out"), err = directory.appendingPathComponent("err")
        _ = FileManager.default.createFile(atPath: out.path, contents: nil)
        _ = FileManager.default.createFile(atPath: err.path, contents: nil)
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        for name in ["DATABASE_URL", "HAVEN_MIGRATION_DATABASE_URL", "HAVEN_KEYS_FILE", "HAVEN_DATA_DIR", "HAVEN_SCHEMA_DIR"] { environment.removeValue(forKey: name) }
        process.environment = environment
        process.standardOutput = try FileHandle(forWritingTo: out)
        process.standardError = try FileHandle(forWritingTo: err)
        let stdin = Pipe()
        process.standardInput = stdin
        try process.run()
        if let input { stdin.fileHandleForWriting.write(Data(input.utf8)) }
        try stdin.fileHandleForWriting.close()
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)  // SIGTERM may be blocked in the child (inherited mask)
            process.waitUntilExit()
            throw TestFailure("haven \(arguments.prefix(2).joined(separator: " ")) was still running after \(Int(timeout)) s")
        }
        process.waitUntilExit()
        return (process.terminationStatus, try String(contentsOf: out, encoding: .utf8), try String(contentsOf: err, encoding: .utf8))
    }

    static func permissions(_ path: String) throws -> Int {
        ((try FileManager.default.attributesOfItem(atPath: path))[.posixPermissions] as? NSNumber)?.intValue ?? -1
    }

    @Test("haven keys add appends a new newest key; haven keys rotate re-seals everything under it; haven retention run anonymises due cases")
    func operatorCommands() async throws {
        try await TestApp.run { app, client in
            let org = try await app.organisation()
            let supervisor = try await CaseKit.member(app, client, .supervisor, in: org.id)
            let person = CaseKit.Person(), stays = CaseKit.Person()
            let closing = try await CaseKit.createCase(client, supervisor, CaseKit.intake(person, note: "cli note \(person.tag)"))
            let open = try await CaseKit.createCase(client, supervisor, CaseKit.intake(stays))
            let close = try await CaseKit.call(client, .post, "/v1/cases/\(closing.id.uuidString)/close", supervisor.token, ["reason": "services-completed"])
            #expect(close.status == .ok, "\(close.text)")

            // A key file as the test ring has it: k1, then k2 (newest).
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("haven-keys-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: folder) }
            let keyFile = folder.appendingPathComponent("keys").path
            let original = "k1 \(PrivacyKit.k1Material)\nk2 \(PrivacyKit.k2Material)\n"
            _ = FileManager.default.createFile(atPath: keyFile, contents: Data(original.utf8), attributes: [.posixPermissions: 0o600])

            let added = try Self.haven(["keys", "add", "--keys-file", keyFile])
            #expect(added.status == 0, "keys add: \(added.errors)")
            #expect(added.output.trimmingCharacters(in: .whitespacesAndNewlines) == "k3", "prints the new id: \(added.output)")
            let text = try String(contentsOfFile: keyFile, encoding: .utf8)
            #expect(text.hasPrefix(original), "the old keys stay, in order")
            let ring = try KeyRing(text: text)
            #expect(ring.keys.map(\.id) == ["k1", "k2", "k3"])
            #expect(ring.currentKeyID == "k3")
            #expect(try Self.permissions(keyFile) & 0o077 == 0, "the key file is readable by its owner only")
            let newLine = try #require(text.split(separator: "\n").last?.split(separator: " "))
            #expect(newLine.count == 2 && newLine[0] == "k3" && newLine[1].count == 64, "\(newLine)")
            let newMaterial = String(newLine.last ?? "")
            CaseKit.expectAbsent([newMaterial], in: added.output + added.errors, "keys add output (the key itself)")

            let database = ["--database-url", try app.database.appURL, "--keys-file", keyFile, "--schema-dir", Self.packageRoot.appendingPathComponent("Schema").path]
            let rotated = try Self.haven(["keys", "rotate"] + database)
            #expect(rotated.status == 0, "keys rotate: \(rotated.output) \(rotated.errors)")
            #expect(rotated.output.contains("re-encrypted"), "\(rotated.output)")
            let used = try PrivacyKit.keyIDsInUse(app)
            #expect(Set(used.keys) == ["k3"], "every sealed value names k3: \(used)")
            CaseKit.expectAbsent(person.identifyingValues + ["cli note \(person.tag)"], in: rotated.output + rotated.errors, "rotate output")

            // The case reads back with the new ring (k3 alone would do).
            let k3Only = try KeyRing(keys: [(id: "k3", material: try #require(Hex.decode(newMaterial)))])
            try await PrivacyKit.withApp(app, keys: k3Only) { _, other in
                let read = try await CaseKit.call(other, .get, "/v1/cases/\(closing.id.uuidString)", supervisor.token)
                #expect(read.status == .ok && read.text.contains(person.givenName), "\(read.text)")
            }

            // Retention: the closed case falls due yesterday.
            _ = try PrivacyKit.execute(app, "UPDATE case_file SET retention_due = current_date - 1 WHERE id = $1", [closing.id])
            let retention = try Self.haven(["retention", "run"] + database)
            #expect(retention.status == 0, "retention run: \(retention.output) \(retention.errors)")
            #expect(retention.output.contains("anonymised 1 cases"), "\(retention.output)")
            #expect(try CaseKit.count(app, "case_file", where: "id = $1 AND identity_sealed IS NULL AND note_sealed IS NULL AND anonymised_at IS NOT NULL", [closing.id]) == 1)
            #expect(try CaseKit.count(app, "case_file", where: "id = $1 AND identity_sealed IS NOT NULL AND anonymised_at IS NULL", [open.id]) == 1)
            #expect(try PrivacyKit.auditCount(app, subtype: "case.anonymise", caseID: closing.id) == 1)
            let again = try Self.haven(["retention", "run"] + database)
            #expect(again.output.contains("anonymised 0 cases"), "\(again.output)")

            // A key file without the key the data needs is a clear error, not garbage.
            let stale = folder.appendingPathComponent("stale").path
            _ = FileManager.default.createFile(atPath: stale, contents: Data(original.utf8), attributes: [.posixPermissions: 0o600])
            var staleDatabase = database
            staleDatabase[3] = stale
            let refused = try Self.haven(["keys", "rotate"] + staleDatabase)
            #expect(refused.status != 0, "rotating with a key file that lacks k3 fails: \(refused.output)")
        }
    }
}
