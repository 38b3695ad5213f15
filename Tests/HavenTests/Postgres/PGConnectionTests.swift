import Foundation
import Postgres
import Testing

@Suite struct PGConnectionTests {
    @Test func executeReportsAffectedRows() async throws {
        try await withTestDatabase { database in
            let connection = try database.connect()
            try connection.run(script: "CREATE TEMP TABLE items (id int PRIMARY KEY, label text)")
            #expect(try connection.execute("INSERT INTO items SELECT g, 'x' FROM generate_series(1, $1::int) g", [5]) == 5)
            #expect(try connection.execute("UPDATE items SET label = $1 WHERE id > $2", ["y", 2]) == 3)
            #expect(try connection.execute("DELETE FROM items WHERE id = $1", [99]) == 0)
            #expect(try connection.execute("DELETE FROM items WHERE label = $1", ["x"]) == 2)
        }
    }

    @Test func preparedStatementsAreReusedAndStillCorrect() async throws {
        try await withTestDatabase { database in
            let connection = try database.connect()
            for value in 0..<50 {
                #expect(try connection.query("SELECT $1::int8 * 2", [value])[0].decode(Int.self, at: 0) == value * 2)
            }
            let prepared = try connection.query("SELECT count(*) FROM pg_prepared_statements WHERE statement = $1", ["SELECT $1::int8 * 2"])
            #expect(try prepared[0].decode(Int.self, at: 0) == 1)
        }
    }

    /// Statement names are found by the text's storage first: the same text from another
    /// storage shares the statement, and another text at a freed string's address does not.
    @Test func statementNamesFollowTheTextNotItsStorage() async throws {
        try await withTestDatabase { database in
            let connection = try database.connect()
            let literal = "SELECT $1::int8 + 1000 AS named_by_text"
            for round in 0..<40 {
                // Built at run time, freed each round: the allocator hands the address on to the next text.
                let built = "SELECT $1::int8 + \(1000 + round % 2) AS named_by_text"
                #expect(try connection.query(built, [1])[0].decode(Int.self, at: 0) == 1001 + round % 2)
                #expect(try connection.query(literal, [1])[0].decode(Int.self, at: 0) == 1001)
            }
            let prepared = try connection.query("SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE '%AS named_by_text'")
            #expect(try prepared[0].decode(Int.self, at: 0) == 2)
        }
    }

    /// More distinct statements than the cache holds: it is emptied and statements re-prepared.
    @Test func statementCacheOverflowKeepsWorking() async throws {
        try await withTestDatabase { database in
            let connection = try database.connect()
            for index in 0..<600 {
                let sql = "SELECT $1::int8 + \(index)"  // fixed SQL shapes; the value is a parameter
                #expect(try connection.query(sql, [1])[0].decode(Int.self, at: 0) == 1 + index)
            }
            // Statements from before the overflow run again.
            #expect(try connection.query("SELECT $1::int8 + 0", [5])[0].decode(Int.self, at: 0) == 5)
            #expect(try connection.query("SELECT $1::int8 + 599", [1])[0].decode(Int.self, at: 0) == 600)
            let count = try connection.query("SELECT count(*) FROM pg_prepared_statements")[0].decode(Int.self, at: 0)
            #expect(count <= 512)
        }
    }

    /// PgBouncer transaction mode: nothing is prepared on the server.
    @Test func unnamedStatementsMode() async throws {
        try await withTestDatabase { database in
            let connection = try PGConnection(conninfo: try database.appURL, options: .init(namedStatements: false))
            for value in 0..<5 {
                #expect(try connection.query("SELECT $1::text || $2::text", ["a", String(value)])[0].decode(String.self, at: 0) == "a\(value)")
            }
            #expect(try connection.query("SELECT count(*) FROM pg_prepared_statements")[0].decode(Int.self, at: 0) == 0)
            #expect(try connection.query("SELECT $1::bytea", [[UInt8]([0, 1, 2])])[0].decode([UInt8].self, at: 0) == [0, 1, 2])
        }
    }

    @Test func failedPreparationIsNotCached() async throws {
        try await withTestDatabase { database in
            let connection = try database.connect()
            _ = PGTestSupport.pgError { _ = try connection.query("SELECT * FROM later_table WHERE id = $1", [1]) }
            try connection.run(script: "CREATE TEMP TABLE later_table (id int)")
            #expect(try connection.query("SELECT * FROM later_table WHERE id = $1", [1]).rowCount == 0)
        }
    }

    @Test func transactionCommitsOrRollsBack() async throws {
        try await withTestDatabase { database in
            let connection = try database.connect()
            try connection.run(script: "CREATE TEMP TABLE ledger (amount int)")
            let value = try connection.transaction { connection -> Int in
                try connection.execute("INSERT INTO ledger VALUES ($1)", [10])
                #expect(connection.isInTransaction)
                return 7
            }
            #expect(value == 7)
            #expect(!connection.isInTransaction)
            struct Boom: Error {}
            #expect(throws: Boom.self) {
                try connection.transaction { connection in
                    try connection.execute("INSERT INTO ledger VALUES ($1)", [20])
                    throw Boom()
                }
            }
            #expect(!connection.isInTransaction)
            // A server error inside also rolls back.
            let error = PGTestSupport.pgError {
                try connection.transaction { connection in
                    try connection.execute("INSERT INTO ledger VALUES ($1)", [30])
                    _ = try connection.query("SELECT 1 / $1::int", [0])
                }
            }
            #expect(error?.sqlState == "22012")
            #expect(!connection.isInTransaction)
            #expect(try connection.query("SELECT coalesce(sum(amount), 0) FROM ledger")[0].decode(Int.self, at: 0) == 10)
        }
    }

    @Test func scriptsRunSeveralStatements() async throws {
        try await withTestDatabase { database in
            let connection = try database.connect()
            try connection.run(script: """
                CREATE TEMP TABLE a (id int);
                INSERT INTO a VALUES (1), (2);
                -- a comment
                INSERT INTO a VALUES (3);
                """)
            #expect(try connection.query("SELECT count(*) FROM a")[0].decode(Int.self, at: 0) == 3)
            try connection.run(script: "")  // empty query is fine
        }
    }

    @Test func conninfoReplacingKeepsOtherKeywords() throws {
        let replaced = try PGConninfo.replacing("host=/tmp/x port=5433 user=postgres dbname=postgres", with: ["user": "haven_app", "dbname": "db1"])
        #expect(replaced.contains("host='/tmp/x'"))
        #expect(replaced.contains("port='5433'"))
        #expect(replaced.contains("user='haven_app'"))
        #expect(replaced.contains("dbname='db1'"))
        #expect(!replaced.contains("postgres'"))
        let fromURI = try PGConninfo.replacing("postgresql://u:p@db.example:6543/main?sslmode=require", with: ["dbname": "other"])
        #expect(fromURI.contains("host='db.example'"))
        #expect(fromURI.contains("port='6543'"))
        #expect(fromURI.contains("sslmode='require'"))
        #expect(fromURI.contains("dbname='other'"))
        #expect(throws: PGError.self) { try PGConninfo.replacing("host='unterminated", with: [:]) }
        #expect(PGConninfo.quote("it's a \\ path") == #"'it\'s a \\ path'"#)
    }

    @Test func quotedConninfoConnects() async throws {
        try await withTestDatabase { database in
            // The replaced string (every value quoted) is what the fixture connects with.
            let connection = try PGConnection(conninfo: try PGConninfo.replacing(try database.appURL, with: ["application_name": "it's \\ quoted"]))
            #expect(try connection.query("SELECT current_setting('application_name')")[0].decode(String.self, at: 0) == "it's \\ quoted")
        }
    }
}
