import CLibPQ
import Foundation
import Logging
#if canImport(Glibc)
import Glibc
#endif

/// A private PostgreSQL cluster in a data folder: `initdb` on first use, `pg_ctl start` with a
/// Unix socket inside the folder and no TCP listener, `pg_ctl stop` at the end. As root, the
/// server runs as the `postgres` system user, because PostgreSQL refuses to run as root.
public struct EmbeddedPostgres: Sendable {
    public enum StartOutcome: Sendable, Equatable {
        /// A new cluster was initialised and started.
        case initialised
        /// An existing cluster was started.
        case started
        /// The cluster was already running (left behind by a process that was killed): reused.
        case adopted
    }

    public let dataDirectory: String
    public let port: Int
    /// Extra `postgresql.conf` settings written at `initdb` time.
    public let settings: [String: String]
    let binDirectory: String
    let systemUser: String?

    public init(dataDirectory: String, port: Int = 5432, settings: [String: String] = [:]) throws {
        let absolute = URL(fileURLWithPath: dataDirectory).standardizedFileURL.path
        self.dataDirectory = absolute
        self.port = port
        self.settings = settings
        self.binDirectory = try EmbeddedPostgres.findBinDirectory()
        self.systemUser = geteuid() == 0 ? "postgres" : nil
        let socketPath = "\(absolute)/.s.PGSQL.\(port)"
        guard socketPath.utf8.count < 100 else {
            throw EmbeddedPostgresError("the data folder path is too long for a Unix socket (\(socketPath.utf8.count) bytes): choose a shorter --data-dir")
        }
    }

    /// The superuser's connection string for a database of this cluster.
    public func conninfo(user: String = "postgres", database: String = "postgres") -> String {
        "host=\(PGConninfo.quote(dataDirectory)) port=\(port) user=\(PGConninfo.quote(user)) dbname=\(PGConninfo.quote(database))"
    }

    public var isInitialised: Bool {
        FileManager.default.fileExists(atPath: dataDirectory + "/PG_VERSION")
    }

    /// Answers connections now.
    public func isAnswering() -> Bool {
        PQping(conninfo()) == PQPING_OK
    }

    @discardableResult
    public func start(logger: Logger) throws -> StartOutcome {
        var outcome = StartOutcome.started
        if !isInitialised {
            try initialise(logger: logger)
            outcome = .initialised
        }
        if try handleLeftoverServer(logger: logger) { return .adopted }
        try run("pg_ctl", ["start", "-D", dataDirectory, "-l", dataDirectory + "/server.log", "-w", "-t", "120", "-s"])
        return outcome
    }

    public func stop(logger: Logger) throws {
        guard FileManager.default.fileExists(atPath: dataDirectory + "/postmaster.pid") else { return }
        try run("pg_ctl", ["stop", "-D", dataDirectory, "-m", "fast", "-w", "-t", "120", "-s"])
        logger.info("embedded PostgreSQL stopped")
    }

    /// Stops at once, as a crash would (for tests of recovery).
    public func kill(logger: Logger) throws {
        try run("pg_ctl", ["stop", "-D", dataDirectory, "-m", "immediate", "-w", "-s"])
    }

    private func initialise(logger: Logger) throws {
        logger.info("initialising embedded PostgreSQL", metadata: ["data_dir": "\(dataDirectory)"])
        let files = FileManager.default
        try files.createDirectory(atPath: dataDirectory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        if let systemUser {
            try files.setAttributes([.ownerAccountName: systemUser, .posixPermissions: 0o700], ofItemAtPath: dataDirectory)
            do {
                try run("test", ["-w", dataDirectory, "-a", "-x", dataDirectory])
            } catch {
                throw EmbeddedPostgresError("the \(systemUser) user cannot reach \(dataDirectory): a folder above it is closed to other users; choose a --data-dir under a folder it can enter (e.g. /var/tmp)")
            }
        }
        try run("initdb", ["-D", dataDirectory, "-U", "postgres", "-E", "UTF8", "--no-locale", "--auth=trust", "--no-instructions"])
        var conf = "\n# Written by haven for its embedded cluster: Unix socket only, no TCP.\n"
        conf += "listen_addresses = ''\n"
        conf += "unix_socket_directories = '\(dataDirectory.replacingOccurrences(of: "'", with: "''"))'\n"
        conf += "unix_socket_permissions = 0700\n"
        conf += "port = \(port)\n"
        for (key, value) in settings.sorted(by: { $0.key < $1.key }) { conf += "\(key) = \(value)\n" }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: dataDirectory + "/postgresql.conf"))
        defer { try? handle.close() }
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(conf.utf8))
    }

    /// A `postmaster.pid` left by a killed run: reuse a server that still answers; remove the
    /// file when its process is gone (or its PID now belongs to something else).
    private func handleLeftoverServer(logger: Logger) throws -> Bool {
        let pidFile = dataDirectory + "/postmaster.pid"
        guard let contents = try? String(contentsOfFile: pidFile, encoding: .utf8) else { return false }
        if isAnswering() {
            logger.info("embedded PostgreSQL was still running; reusing it")
            return true
        }
        let pid = contents.split(separator: "\n").first.flatMap { Int32($0.trimmingCharacters(in: .whitespaces)) }
        if let pid, EmbeddedPostgres.isPostgresProcess(pid) {
            // Starting up or shutting down: give it time to settle.
            for _ in 0..<60 where EmbeddedPostgres.isPostgresProcess(pid) {
                if isAnswering() { return true }
                usleep(500_000)
            }
            if isAnswering() { return true }
            if EmbeddedPostgres.isPostgresProcess(pid) {
                throw EmbeddedPostgresError("PostgreSQL process \(pid) holds \(dataDirectory) but does not answer; stop it and start again")
            }
        }
        logger.warning("removing a stale postmaster.pid left by a server that is gone")
        try? FileManager.default.removeItem(atPath: pidFile)
        try? FileManager.default.removeItem(atPath: "\(dataDirectory)/.s.PGSQL.\(port).lock")
        return false
    }

    static func isPostgresProcess(_ pid: Int32) -> Bool {
        guard pid > 0, Glibc.kill(pid, 0) == 0 || errno == EPERM else { return false }
        guard let name = try? String(contentsOfFile: "/proc/\(pid)/comm", encoding: .utf8) else { return true }
        let command = name.trimmingCharacters(in: .whitespacesAndNewlines)
        return command == "postgres" || command == "postmaster"
    }

    /// Runs a PostgreSQL tool (or `test`), as the `postgres` user when we are root.
    private func run(_ tool: String, _ arguments: [String]) throws {
        let path = tool == "test" ? "/usr/bin/test" : "\(binDirectory)/\(tool)"
        let result: ChildProcess.Result
        if let systemUser {
            result = try ChildProcess.run("/usr/sbin/runuser", ["-u", systemUser, "--", path] + arguments)
        } else {
            result = try ChildProcess.run(path, arguments)
        }
        guard result.status == 0 else {
            throw EmbeddedPostgresError("\(tool) \(arguments.first ?? "") failed (exit \(result.status)): \(result.output.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
    }

    /// `initdb` and `pg_ctl` on PATH, else the newest `/usr/lib/postgresql/*/bin` (Debian).
    static func findBinDirectory() throws -> String {
        let files = FileManager.default
        for directory in (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":") {
            if files.isExecutableFile(atPath: "\(directory)/initdb") && files.isExecutableFile(atPath: "\(directory)/pg_ctl") {
                return String(directory)
            }
        }
        let root = "/usr/lib/postgresql"
        let versions = ((try? files.contentsOfDirectory(atPath: root)) ?? []).compactMap { Int($0) }.sorted(by: >)
        for version in versions where files.isExecutableFile(atPath: "\(root)/\(version)/bin/initdb") {
            return "\(root)/\(version)/bin"
        }
        throw EmbeddedPostgresError("initdb and pg_ctl not found on PATH or under /usr/lib/postgresql/*/bin: install PostgreSQL (apt-get install postgresql) or set DATABASE_URL")
    }
}

public struct EmbeddedPostgresError: Error, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}

public enum PGConninfo {
    /// Quotes a value for a libpq keyword/value connection string.
    public static func quote(_ value: String) -> String {
        "'" + value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "\\'") + "'"
    }
}

extension PGConninfo {
    /// The same connection with some keywords replaced (user, dbname, ...), whether the original
    /// is a `postgresql://` URI or a keyword/value string.
    public static func replacing(_ conninfo: String, with overrides: [String: String]) throws -> String {
        var error: UnsafeMutablePointer<CChar>?
        guard let options = PQconninfoParse(conninfo, &error) else {
            let message = error.map { String(cString: $0) } ?? "invalid connection string"
            if let error { PQfreemem(error) }
            throw PGError(kind: .other, message: message)
        }
        defer { PQconninfoFree(options) }
        var parts: [String] = []
        var seen: Set<String> = []
        var option = options
        while let keyword = option.pointee.keyword {
            let name = String(cString: keyword)
            if let value = overrides[name] {
                parts.append("\(name)=\(quote(value))")
                seen.insert(name)
            } else if let value = option.pointee.val {
                parts.append("\(name)=\(quote(String(cString: value)))")
            }
            option += 1
        }
        for (name, value) in overrides.sorted(by: { $0.key < $1.key }) where !seen.contains(name) {
            parts.append("\(name)=\(quote(value))")
        }
        return parts.joined(separator: " ")
    }
}
