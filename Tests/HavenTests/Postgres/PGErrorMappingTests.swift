import Foundation
import Postgres
import Testing

/// Server errors arrive as `PGError` with the SQLSTATE mapped to a kind the layers above act on.
@Suite struct PGErrorMappingTests {
    /// A scratch table visible to every connection of the test database, owned by the schema owner.
    static func makeSharedTable(_ database: TestDatabase) throws {
        let owner = try database.connect(as: "haven_owner")
        try owner.run(script: """
            CREATE TABLE scratch_accounts (id int PRIMARY KEY, balance int NOT NULL);
            INSERT INTO scratch_accounts VALUES (1, 100), (2, 100);
            """)
    }

    @Test func constraintViolations() async throws {
        try await withTestDatabase { database in
            let connection = try database.connect()
            try connection.run(script: """
                CREATE TEMP TABLE parent (id int PRIMARY KEY, code text UNIQUE);
                CREATE TEMP TABLE child (id int PRIMARY KEY, parent_id int NOT NULL REFERENCES parent(id),
                                         amount int CONSTRAINT amount_positive CHECK (amount > 0));
                """)
            try connection.execute("INSERT INTO parent VALUES ($1, $2)", [1, "a"])

            let unique = PGTestSupport.pgError { try connection.execute("INSERT INTO parent VALUES ($1, $2)", [2, "a"]) }
            #expect(unique?.kind == .uniqueViolation)
            #expect(unique?.sqlState == "23505")
            #expect(unique?.constraint == "parent_code_key")

            let foreignKey = PGTestSupport.pgError { try connection.execute("INSERT INTO child VALUES ($1, $2, $3)", [1, 99, 5]) }
            #expect(foreignKey?.kind == .foreignKeyViolation)
            #expect(foreignKey?.sqlState == "23503")
            #expect(foreignKey?.constraint == "child_parent_id_fkey")

            let check = PGTestSupport.pgError { try connection.execute("INSERT INTO child VALUES ($1, $2, $3)", [1, 1, -5]) }
            #expect(check?.kind == .checkViolation)
            #expect(check?.constraint == "amount_positive")

            let notNull = PGTestSupport.pgError {
                let missing: Int? = nil
                try connection.execute("INSERT INTO child VALUES ($1, $2, $3)", [1, missing, 5])
            }
            #expect(notNull?.kind == .notNullViolation)
            #expect(notNull?.sqlState == "23502")

            // A deleted parent still referenced.
            try connection.execute("INSERT INTO child VALUES ($1, $2, $3)", [1, 1, 5])
            let restrict = PGTestSupport.pgError { try connection.execute("DELETE FROM parent WHERE id = $1", [1]) }
            #expect(restrict?.kind == .foreignKeyViolation)

            // The connection carries on after each error (no transaction was open).
            #expect(try connection.query("SELECT count(*) FROM child")[0].decode(Int.self, at: 0) == 1)
        }
    }

    @Test func errorsCarryTheStatementButNoValues() async throws {
        try await withTestDatabase { database in
            let connection = try database.connect()
            try connection.run(script: "CREATE TEMP TABLE people (name text UNIQUE)")
            try connection.execute("INSERT INTO people VALUES ($1)", ["Secret Name"])
            let error = PGTestSupport.pgError { try connection.execute("INSERT INTO people VALUES ($1)", ["Secret Name"]) }
            #expect(error?.statement?.contains("INSERT INTO people") == true)
            #expect(error?.statement?.contains("Secret Name") == false)
            #expect(error?.message.contains("Secret Name") == false)
            #expect(error.map { "\($0)" }?.contains("23505") == true)
            // (PostgreSQL itself puts the key value in `detail`; callers must not log that field.)
        }
    }

    /// The server quotes a bound value in its message (a bad integer literal) and in its detail
    /// (the duplicate key): neither reaches the description a log or a response would show.
    @Test func serverWordsOnlyInTheDebugDescription() async throws {
        try await withTestDatabase { database in
            let connection = try database.connect()
            let secret = "SyntheticSecret-123"

            let literal = PGTestSupport.pgError { _ = try connection.query("SELECT $1::int", [secret]) }
            #expect(literal?.kind == .invalidTextRepresentation)
            #expect(literal?.message.contains(secret) == true)
            #expect(literal.map { String(describing: $0) }?.contains(secret) == false)
            #expect(literal.map { String(describing: $0) }?.contains("22P02") == true)
            #expect(literal.map { PGError.loggable($0) }?.contains(secret) == false)
            #expect(literal?.debugDescription.contains(secret) == true)

            try connection.run(script: "CREATE TEMP TABLE holders (name text CONSTRAINT holders_name_unique UNIQUE)")
            try connection.execute("INSERT INTO holders VALUES ($1)", [secret])
            let unique = PGTestSupport.pgError { try connection.execute("INSERT INTO holders VALUES ($1)", [secret]) }
            #expect(unique?.detail?.contains(secret) == true)
            let described = unique.map { String(describing: $0) } ?? ""
            #expect(!described.contains(secret))
            #expect(described.contains("uniqueViolation"))
            #expect(described.contains("23505"))
            #expect(described.contains("holders_name_unique"))
            #expect(described.contains("holders"))
            #expect(described.contains("INSERT INTO holders"))
            #expect(unique.map { String(reflecting: $0) }?.contains(secret) == true)
        }
    }

    @Test func syntaxAndPrivilegeErrors() async throws {
        try await withTestDatabase { database in
            let connection = try database.connect()
            let syntax = PGTestSupport.pgError { _ = try connection.query("SELEC 1") }
            #expect(syntax?.kind == .other)
            #expect(syntax?.sqlState == "42601")
            // The application role may not create tables in the schema.
            let privilege = PGTestSupport.pgError { try connection.run(script: "CREATE TABLE public.sneaky (id int)") }
            #expect(privilege?.kind == .insufficientPrivilege)
            #expect(privilege?.sqlState == "42501")
            #expect(connection.isUsable())
        }
    }

    @Test func serializationFailure() async throws {
        try await withTestDatabase { database in
            try Self.makeSharedTable(database)
            let first = try database.connect(as: "haven_owner")
            let second = try database.connect(as: "haven_owner")
            // Both read, then both write the row they read: the second to commit cannot be serialised.
            try first.run(script: "BEGIN ISOLATION LEVEL SERIALIZABLE")
            try second.run(script: "BEGIN ISOLATION LEVEL SERIALIZABLE")
            let a = try first.query("SELECT balance FROM scratch_accounts WHERE id = $1", [1])[0].decode(Int.self, at: 0)
            let b = try second.query("SELECT balance FROM scratch_accounts WHERE id = $1", [1])[0].decode(Int.self, at: 0)
            try first.execute("UPDATE scratch_accounts SET balance = $1 WHERE id = $2", [a - 10, 1])
            try first.run(script: "COMMIT")
            let error = PGTestSupport.pgError {
                try second.execute("UPDATE scratch_accounts SET balance = $1 WHERE id = $2", [b - 20, 1])
                try second.run(script: "COMMIT")
            }
            #expect(error?.kind == .serializationFailure)
            #expect(error?.sqlState == "40001")
            #expect(error?.isTransient == true)
            if second.isInTransaction { try second.run(script: "ROLLBACK") }
            #expect(try second.query("SELECT balance FROM scratch_accounts WHERE id = $1", [1])[0].decode(Int.self, at: 0) == 90)
        }
    }

    /// Write skew on disjoint rows: only SERIALIZABLE's predicate locks catch it.
    @Test func serializationFailureOnWriteSkew() async throws {
        try await withTestDatabase { database in
            try Self.makeSharedTable(database)
            let first = try database.connect(as: "haven_owner")
            let second = try database.connect(as: "haven_owner")
            try first.run(script: "BEGIN ISOLATION LEVEL SERIALIZABLE")
            try second.run(script: "BEGIN ISOLATION LEVEL SERIALIZABLE")
            _ = try first.query("SELECT sum(balance) FROM scratch_accounts")
            _ = try second.query("SELECT sum(balance) FROM scratch_accounts")
            try first.execute("UPDATE scratch_accounts SET balance = balance - 150 WHERE id = $1", [1])
            var kinds: [PGError.Kind] = []
            do {
                try second.execute("UPDATE scratch_accounts SET balance = balance - 150 WHERE id = $1", [2])
                try first.run(script: "COMMIT")
                try second.run(script: "COMMIT")
            } catch let error as PGError {
                kinds.append(error.kind)
            }
            #expect(kinds == [.serializationFailure])
        }
    }

    @Test func deadlock() async throws {
        try await withTestDatabase { database in
            try Self.makeSharedTable(database)
            let conninfo = try database.ownerURL
            let bothLocked = PGTestSupport.Barrier(count: 2)
            // Each thread locks one row, waits until the other has locked the other, then asks for it.
            func transfer(first: Int, second: Int) async -> Result<Void, PGError> {
                do {
                    try await PGTestSupport.onThread {
                        let connection = try PGConnection(conninfo: conninfo)
                        try connection.run(script: "BEGIN")
                        try connection.execute("UPDATE scratch_accounts SET balance = balance - 1 WHERE id = $1", [first])
                        guard bothLocked.arriveAndWait() else { throw PGError(kind: .other, message: "barrier timed out") }
                        try connection.execute("UPDATE scratch_accounts SET balance = balance + 1 WHERE id = $1", [second])
                        try connection.run(script: "COMMIT")
                    }
                    return .success(())
                } catch let error as PGError {
                    return .failure(error)
                } catch {
                    return .failure(PGError(kind: .other, message: "\(error)"))
                }
            }
            async let one = transfer(first: 1, second: 2)
            async let two = transfer(first: 2, second: 1)
            let results = await [one, two]
            let failures = results.compactMap { result -> PGError? in
                if case .failure(let error) = result { return error }
                return nil
            }
            #expect(failures.count == 1, "\(failures)")
            #expect(failures.first?.kind == .deadlock)
            #expect(failures.first?.sqlState == "40P01")
            #expect(failures.first?.isTransient == true)
        }
    }

    @Test func statementTimeoutIsQueryCancelled() async throws {
        try await withTestDatabase { database in
            let connection = try database.connect()
            try connection.run(script: "SET statement_timeout = 50")
            let error = PGTestSupport.pgError { _ = try connection.query("SELECT pg_sleep(30)") }
            #expect(error?.kind == .queryCancelled)
            #expect(error?.sqlState == "57014")
            #expect(connection.isUsable())
            // The option sets it for every statement of the connection.
            let limited = try PGConnection(conninfo: try database.appURL, options: .init(statementTimeoutMilliseconds: 50))
            let limitedError = PGTestSupport.pgError { _ = try limited.query("SELECT pg_sleep(30)") }
            #expect(limitedError?.kind == .queryCancelled)
            #expect(try limited.query("SELECT current_setting('statement_timeout')")[0].decode(String.self, at: 0) == "50ms")
        }
    }

    @Test func lockNotAvailable() async throws {
        try await withTestDatabase { database in
            try Self.makeSharedTable(database)
            let holder = try database.connect(as: "haven_owner")
            let other = try database.connect(as: "haven_owner")
            try holder.run(script: "BEGIN")
            _ = try holder.query("SELECT * FROM scratch_accounts WHERE id = $1 FOR UPDATE", [1])
            let error = PGTestSupport.pgError { _ = try other.query("SELECT * FROM scratch_accounts WHERE id = $1 FOR UPDATE NOWAIT", [1]) }
            #expect(error?.kind == .lockNotAvailable)
            try holder.run(script: "ROLLBACK")
        }
    }

    @Test func terminatedBackendIsConnectionLost() async throws {
        try await withTestDatabase { database in
            let connection = try database.connect()
            let pid = connection.backendPID
            #expect(pid > 0)
            #expect(connection.isUsable())
            let superuser = try PGConnection(conninfo: try database.superuserDatabaseURL)
            // Waits (up to 10 s) until the backend has gone.
            let terminated = try superuser.query("SELECT pg_terminate_backend($1, 10000)", [pid])[0].decode(Bool.self, at: 0)
            #expect(terminated)
            #expect(!connection.isUsable())
            let error = PGTestSupport.pgError { _ = try connection.query("SELECT 1") }
            #expect(error?.kind == .connectionLost)
            #expect(!connection.isOK)
            // And it stays lost.
            let again = PGTestSupport.pgError { _ = try connection.query("SELECT 2") }
            #expect(again?.kind == .connectionLost)
        }
    }

    @Test func connectingWithBadCredentialsIsConnectionLost() async throws {
        try await withTestDatabase { database in
            let error = PGTestSupport.pgError { _ = try database.connect(as: "no_such_role") }
            #expect(error?.kind == .connectionLost)
            #expect(error?.message.contains("no_such_role") == true)
        }
    }
}
