import Foundation
import Logging
import Postgres
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite struct EmbeddedPostgresTests {
    static let logger = Logger(label: "haven.tests.embedded")

    static func writePIDFile(_ cluster: EmbeddedPostgres, pid: Int32) throws {
        // The first line is the postmaster's PID; the rest is what a real file holds.
        let contents = "\(pid)\n\(cluster.dataDirectory)\n1700000000\n\(cluster.port)\n\(cluster.dataDirectory)\n\n  5432001         0\nready   \n"
        try contents.write(toFile: cluster.dataDirectory + "/postmaster.pid", atomically: true, encoding: .utf8)
    }

    @Test func startStopAndStalePIDFiles() async throws {
        try await PGTestSupport.withPrivateCluster { cluster in
            #expect(!cluster.isInitialised)
            #expect(try cluster.start(logger: Self.logger) == .initialised)
            #expect(cluster.isInitialised)
            #expect(cluster.isAnswering())
            // Starting a running cluster adopts it.
            #expect(try cluster.start(logger: Self.logger) == .adopted)

            // The cluster listens on its own socket only, never on TCP.
            let connection = try PGConnection(conninfo: cluster.conninfo())
            #expect(try connection.query("SELECT current_setting('listen_addresses')")[0].decode(String.self, at: 0) == "")
            #expect(try connection.query("SELECT current_setting('fsync')")[0].decode(String.self, at: 0) == "off")
            #expect(try connection.query("SELECT current_setting('server_encoding')")[0].decode(String.self, at: 0) == "UTF8")

            try cluster.stop(logger: Self.logger)
            #expect(!cluster.isAnswering())
            #expect(!FileManager.default.fileExists(atPath: cluster.dataDirectory + "/postmaster.pid"))
            // Stopping a stopped cluster is fine.
            try cluster.stop(logger: Self.logger)

            // A postmaster.pid left by a process that no longer exists.
            try Self.writePIDFile(cluster, pid: PGTestSupport.unusedPID())
            #expect(try cluster.start(logger: Self.logger) == .started)
            #expect(cluster.isAnswering())
            try cluster.stop(logger: Self.logger)

            // A postmaster.pid whose PID now belongs to another program (this test process).
            try Self.writePIDFile(cluster, pid: getpid())
            #expect(try cluster.start(logger: Self.logger) == .started)
            #expect(cluster.isAnswering())
            let again = try PGConnection(conninfo: cluster.conninfo())
            #expect(try again.query("SELECT 1")[0].decode(Int.self, at: 0) == 1)

            // After a crash the server is started again (crash recovery).
            try cluster.kill(logger: Self.logger)
            #expect(!cluster.isAnswering())
            #expect(try cluster.start(logger: Self.logger) == .started)
            #expect(cluster.isAnswering())
        }
    }

    @Test func refusesADataDirectoryTooLongForASocket() {
        let long = "/tmp/" + String(repeating: "d", count: 120)
        #expect(throws: EmbeddedPostgresError.self) { _ = try EmbeddedPostgres(dataDirectory: long) }
    }

    @Test func conninfoQuotesThePath() throws {
        let cluster = try EmbeddedPostgres(dataDirectory: "/tmp/it's here", port: 5499)
        #expect(cluster.conninfo() == #"host='/tmp/it\'s here' port=5499 user='postgres' dbname='postgres'"#)
        #expect(cluster.conninfo(user: "haven_app", database: "haven").hasSuffix("user='haven_app' dbname='haven'"))
        #expect(!cluster.isInitialised)
    }
}
