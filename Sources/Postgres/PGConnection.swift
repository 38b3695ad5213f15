import CLibPQ
import Foundation

/// One libpq connection. Not `Sendable`: a connection is used by one thread at a time (the pool
/// hands it to exactly one job on its own thread pool). Values only ever travel as parameters.
public final class PGConnection {
    public struct Options: Sendable {
        /// Prepare each distinct statement once per connection (`PQprepare`). Off for PgBouncer in
        /// transaction mode, where a later transaction may run on another server connection.
        public var namedStatements: Bool
        /// `statement_timeout` in milliseconds for every statement on this connection; nil keeps
        /// the server's setting.
        public var statementTimeoutMilliseconds: Int?
        /// Seconds libpq waits for a new connection.
        public var connectTimeoutSeconds: Int

        public init(namedStatements: Bool = true, statementTimeoutMilliseconds: Int? = nil, connectTimeoutSeconds: Int = 5) {
            self.namedStatements = namedStatements
            self.statementTimeoutMilliseconds = statementTimeoutMilliseconds
            self.connectTimeoutSeconds = connectTimeoutSeconds
        }
    }

    let handle: OpaquePointer
    public let options: Options
    /// Statements to run just before COMMIT, in the same round trip (e.g. audit events, which
    /// nothing in the transaction reads back). If one fails, the transaction does not commit.
    public private(set) var deferredUntilCommit: [PGStatement] = []
    private var statementNames = PreparedNames()
    /// The statement `send` sent, until `receive` collects its rows.
    private var sentSQL: String?
    /// BEGIN and the transaction's settings, not sent yet (see `open`).
    private var pendingOpening: [PGStatement] = []
    /// Reused for every round trip's parameters, so encoding them allocates nothing once warm.
    private var scratch = PGBatch()
    /// What each command of a pipeline answers with: the rows of statement `statement`, or the
    /// preparation of the name `preparing`. Reused like `scratch`.
    private struct Command {
        var sql: String
        var preparing: String?
        var statement: Int
    }
    private var commandScratch: [Command] = []
    /// Set by `commitWithNextStatement`; `committed` once that statement's round trip committed.
    private var commitsWithNext = false
    private var committed = false
    private var statementCounter = 0
    private static let statementCacheLimit = 512

    /// Opens a connection from a libpq connection string or `postgresql://` URI.
    public init(conninfo: String, options: Options = Options()) throws {
        let keywords = ["connect_timeout", "fallback_application_name", "dbname"]
        let values = [String(options.connectTimeoutSeconds), "haven", conninfo]
        // Keywords before `dbname` are defaults: the connection string's own values win.
        let connection = withArrayOfCStrings(keywords) { keywordPointers in
            withArrayOfCStrings(values) { valuePointers in
                PQconnectdbParams(keywordPointers, valuePointers, 1)
            }
        }
        guard let connection else {
            throw PGError(kind: .connectionLost, message: "libpq could not allocate a connection")
        }
        guard PQstatus(connection) == CONNECTION_OK else {
            let message = PGConnection.errorMessage(connection)
            PQfinish(connection)
            throw PGError(kind: .connectionLost, message: message)
        }
        self.handle = connection
        self.options = options
        // Server notices ("relation exists, skipping") would go to stderr; nothing here needs them.
        PQsetNoticeProcessor(connection, { _, _ in }, nil)
        if let timeout = options.statementTimeoutMilliseconds {
            try execute("SELECT set_config('statement_timeout', $1, false)", [String(timeout)])
        }
    }

    deinit { PQfinish(handle) }

    /// False once libpq has seen the connection break.
    public var isOK: Bool { PQstatus(handle) == CONNECTION_OK }

    /// Checks an idle connection without a round trip: an idle socket with data waiting means
    /// the server sent a notice such as "terminating connection" or closed the socket.
    public func isUsable() -> Bool {
        guard isOK, PQtransactionStatus(handle) == PQTRANS_IDLE else { return false }
        let socket = PQsocket(handle)
        guard socket >= 0 else { return false }
        if haven_pg_socket_readable(socket) != 0 {
            _ = PQconsumeInput(handle)
            while let notify = PQnotifies(handle) { PQfreemem(notify) }
            return isOK && haven_pg_socket_readable(socket) == 0
        }
        return true
    }

    public var backendPID: Int32 { PQbackendPID(handle) }

    public var isInTransaction: Bool {
        let status = PQtransactionStatus(handle)
        return status == PQTRANS_INTRANS || status == PQTRANS_INERROR
    }

    /// Runs one statement with bound parameters and returns its rows.
    @discardableResult
    public func query(_ sql: String, _ parameters: [(any PGEncodable)?] = []) throws -> PGResult {
        try checkNotCommitted()
        if !pendingOpening.isEmpty || commitsWithNext {
            guard let result = try sendOpening(count: 1, { try $0.add(sql, parameters) }).last else {
                throw PGError(kind: .other, message: "no result for the statement", statement: PGConnection.summary(sql))
            }
            return result
        }
        return try withBatch { batch in
            try batch.add(sql, parameters)
            let count = Int32(parameters.count)
            if options.namedStatements {
                let name = try preparedName(for: sql, count: parameters.count)
                return try batch.withParameterPointers(0) { values, lengths, formats in
                    try check(name.withCString { PQexecPrepared(handle, $0, count, values, lengths, formats, 1) }, statement: name, sql: sql)
                }
            }
            return try batch.withParameterPointers(0) { values, lengths, formats in
                try check(PQexecParams(handle, sql, count, nil, values, lengths, formats, 1), statement: nil, sql: sql)
            }
        }
    }

    /// Sends one statement without waiting for its rows, so the caller can work meanwhile;
    /// `receive()` collects them. Nothing else may run on the connection in between.
    public func send(_ sql: String, _ parameters: [(any PGEncodable)?] = []) throws {
        try checkNotCommitted()
        if !pendingOpening.isEmpty { try sendOpening(count: 0, { _ in }) }
        let name = options.namedStatements ? try preparedName(for: sql, count: parameters.count) : nil
        let count = Int32(parameters.count)
        let sent = try withBatch { batch in
            try batch.add(sql, parameters)
            return try batch.withParameterPointers(0) { values, lengths, formats in
                // A short name passed as a String argument is copied to the heap; `withCString` keeps it on the stack.
                if let name { return name.withCString { PQsendQueryPrepared(handle, $0, count, values, lengths, formats, 1) } }
                return PQsendQueryParams(handle, sql, count, nil, values, lengths, formats, 1)
            }
        }
        guard sent == 1 else { throw PGError(kind: .connectionLost, message: PGConnection.errorMessage(handle)) }
        sentSQL = sql
    }

    /// Reads whatever the server has sent so far into libpq's buffer, without waiting. Between
    /// `send` and `receive`, calling this now and then lets a large answer keep streaming: the
    /// server otherwise stalls once the socket's buffer is full.
    public func readAvailable() {
        _ = PQconsumeInput(handle)
    }

    /// The rows of the statement `send` sent.
    public func receive() throws -> PGResult {
        guard let sql = sentSQL else { throw PGError(kind: .other, message: "nothing was sent to receive") }
        sentSQL = nil
        var first: OpaquePointer?
        while let result = PQgetResult(handle) {
            if first == nil { first = result } else { PQclear(result) }
        }
        return try check(first, statement: nil, sql: sql)
    }

    /// Runs one statement and returns the number of rows it changed.
    @discardableResult
    public func execute(_ sql: String, _ parameters: [(any PGEncodable)?] = []) throws -> Int {
        try query(sql, parameters).affectedRows
    }

    /// Runs SQL text without parameters through the simple protocol: several statements at once
    /// (migration files) or fixed commands such as `BEGIN`. Never pass text built from values.
    public func run(script sql: String) throws {
        try checkNotCommitted()
        if !pendingOpening.isEmpty { try sendOpening(count: 0, { _ in }) }
        _ = try check(PQexec(handle, sql), statement: nil, sql: sql)
    }

    /// Holds the statements that open a transaction (BEGIN and its settings) until the
    /// transaction's first statement, and sends them with it in one round trip.
    public func open(_ statements: [PGStatement]) throws {
        pendingOpening = statements
        openingResult = nil
        lostWhileOpening = false
        committed = false
    }

    /// The rows of the opening's last statement once it has been sent (nil before): a setting
    /// the caller asked for there, such as the transaction id, costs no round trip of its own.
    public private(set) var openingResult: PGResult?

    /// True when the connection broke in the round trip that carried the transaction's opening:
    /// nothing of the transaction took effect, so it may run again on another connection.
    public private(set) var lostWhileOpening = false

    /// Makes the next statement the transaction's last: the deferred statements and COMMIT go
    /// with it, in its round trip. For transactions whose every decision and audit event is
    /// known before that statement runs (a list the actor may read whatever it holds). Nothing
    /// may be deferred after it.
    public func commitWithNextStatement() {
        commitsWithNext = true
    }

    /// A statement after the one that committed would run outside the transaction.
    private func checkNotCommitted() throws {
        if committed { throw PGError(kind: .other, message: "the transaction already committed with its last statement") }
    }

    /// Sends the `count` statements `add` puts in the batch with what the transaction holds
    /// back: BEGIN and its settings before them, and, when they end the transaction, the
    /// deferred statements and COMMIT after. `commits`: `add` ends the transaction itself, so a
    /// connection lost in this round trip may have committed and the work must not run again.
    @discardableResult
    private func sendOpening(count: Int, commits: Bool = false, _ add: (inout PGBatch) throws -> Void) throws -> [PGResult] {
        let opening = pendingOpening
        pendingOpening = []
        let closes = commitsWithNext && count > 0
        if closes { commitsWithNext = false }
        do {
            let results = try withBatch { batch in
                for statement in opening { try batch.add(statement) }
                try add(&batch)
                if closes {
                    for statement in deferredUntilCommit { try batch.add(statement) }
                    try batch.add("COMMIT", [])
                    deferredUntilCommit = []
                }
                return try send(batch, keeping: (opening.isEmpty ? 0 : opening.count - 1)..<(opening.count + count))
            }
            committed = closes
            guard !opening.isEmpty else { return results }
            openingResult = results.first
            return Array(results.dropFirst())
        } catch let error as PGError where error.kind == .connectionLost {
            // Once COMMIT went along, the transaction may have taken effect: not safe to repeat.
            lostWhileOpening = !opening.isEmpty && !closes && !commits
            throw error
        }
    }

    /// Sends several statements in one round trip (libpq pipeline mode) and returns their rows.
    /// The first failure ends the pipeline: later statements are skipped and the error thrown.
    @discardableResult
    public func pipeline(_ statements: [PGStatement]) throws -> [PGResult] {
        try checkNotCommitted()
        func add(_ batch: inout PGBatch) throws { for statement in statements { try batch.add(statement) } }
        if !pendingOpening.isEmpty || commitsWithNext { return try sendOpening(count: statements.count, add) }
        return try withBatch { batch in
            try add(&batch)
            return try send(batch, keeping: 0..<statements.count)
        }
    }

    /// The connection's reusable batch, emptied, for the duration of `body`.
    private func withBatch<T>(_ body: (inout PGBatch) throws -> T) throws -> T {
        var batch = PGBatch()
        swap(&batch, &scratch)
        batch.removeAll()
        defer { swap(&batch, &scratch) }
        return try body(&batch)
    }

    /// One round trip in pipeline mode. With named statements each statement runs prepared,
    /// prepared in the same pipeline the first time it is seen. Returns the rows of the
    /// statements at `keeping`; the others' (BEGIN, settings, audit inserts, COMMIT) are
    /// checked and freed at once.
    private func send(_ batch: PGBatch, keeping: Range<Int>) throws -> [PGResult] {
        let statements = batch.statements
        if options.namedStatements && statementNames.count + statements.count > PGConnection.statementCacheLimit {
            try run(script: "DEALLOCATE ALL")
            statementNames.removeAll()
        }
        guard PQenterPipelineMode(handle) == 1 else {
            throw PGError(kind: .connectionLost, message: PGConnection.errorMessage(handle))
        }
        defer { PQexitPipelineMode(handle) }
        // What each command sent answers with: a statement's rows, or a new name's preparation.
        var commands: [Command] = []
        swap(&commands, &commandScratch)
        commands.removeAll(keepingCapacity: true)
        defer {
            commands.removeAll(keepingCapacity: true)
            swap(&commands, &commandScratch)
        }
        for (index, statement) in statements.enumerated() {
            let count = Int32(statement.parameters.count)
            var name: String?
            if options.namedStatements {
                if let known = statementNames[statement.sql] {
                    name = known
                } else {
                    statementCounter += 1
                    let fresh = "hv\(statementCounter)"
                    guard PQsendPrepare(handle, fresh, statement.sql, count, nil) == 1 else {
                        throw PGError(kind: .connectionLost, message: PGConnection.errorMessage(handle))
                    }
                    statementNames[statement.sql] = fresh
                    commands.append(Command(sql: statement.sql, preparing: fresh, statement: -1))
                    name = fresh
                }
            }
            let sent = try batch.withParameterPointers(index) { values, lengths, formats in
                // A short name passed as a String argument is copied to the heap; `withCString` keeps it on the stack.
                if let name { return name.withCString { PQsendQueryPrepared(handle, $0, count, values, lengths, formats, 1) } }
                return PQsendQueryParams(handle, statement.sql, count, nil, values, lengths, formats, 1)
            }
            guard sent == 1 else { throw PGError(kind: .connectionLost, message: PGConnection.errorMessage(handle)) }
            commands.append(Command(sql: statement.sql, preparing: nil, statement: index))
        }
        guard PQpipelineSync(handle) == 1 else { throw PGError(kind: .connectionLost, message: PGConnection.errorMessage(handle)) }
        var results: [PGResult] = []
        results.reserveCapacity(keeping.count)
        var failure: PGError?
        for command in commands {
            // Each command's result, then a NULL that ends it.
            while let result = PQgetResult(handle) {
                let status = PQresultStatus(result)
                if let name = command.preparing {
                    // A name whose preparation failed or was skipped must be prepared again.
                    if status != PGRES_COMMAND_OK, statementNames[command.sql] == name { statementNames[command.sql] = nil }
                    if status != PGRES_COMMAND_OK && status != PGRES_PIPELINE_ABORTED && failure == nil {
                        failure = PGConnection.error(from: result, connection: handle, statement: PGConnection.summary(command.sql))
                    }
                    PQclear(result)
                    continue
                }
                switch status {
                case PGRES_TUPLES_OK, PGRES_COMMAND_OK, PGRES_EMPTY_QUERY:
                    if keeping.contains(command.statement) { results.append(PGResult(handle: result)) } else { PQclear(result) }
                case PGRES_PIPELINE_ABORTED:
                    PQclear(result)
                default:
                    if failure == nil {
                        failure = PGConnection.error(from: result, connection: handle, statement: PGConnection.summary(command.sql))
                    }
                    PQclear(result)
                }
            }
        }
        // The sync point.
        while let result = PQgetResult(handle) {
            let status = PQresultStatus(result)
            PQclear(result)
            if status == PGRES_PIPELINE_SYNC { break }
        }
        if !isOK {
            // libpq reports a socket closed under a pipeline as a result without SQLSTATE,
            // before it marks the connection bad: it is still a lost connection.
            var lost = failure ?? PGError(kind: .connectionLost, message: PGConnection.errorMessage(handle))
            lost.kind = .connectionLost
            throw lost
        }
        if let failure { throw failure }
        return results
    }

    /// Queues a statement to run with COMMIT (see `deferredUntilCommit`).
    public func deferUntilCommit(_ statement: PGStatement) {
        deferredUntilCommit.append(statement)
    }

    /// COMMIT, sending the deferred statements in the same round trip.
    public func commit() throws {
        let deferred = deferredUntilCommit
        deferredUntilCommit = []
        commitsWithNext = false
        if committed {
            // Committed with its last statement (`commitWithNextStatement`).
            committed = false
            guard deferred.isEmpty else {
                throw PGError(kind: .other, message: "statements were deferred after the transaction committed")
            }
            return
        }
        if deferred.isEmpty && !pendingOpening.isEmpty {
            // The transaction never ran a statement: there is nothing to commit.
            pendingOpening = []
        } else if deferred.isEmpty {
            try run(script: "COMMIT")
        } else {
            try checkNotCommitted()
            func add(_ batch: inout PGBatch) throws {
                for statement in deferred { try batch.add(statement) }
                try batch.add("COMMIT", [])
            }
            if !pendingOpening.isEmpty {
                try sendOpening(count: 0, commits: true, add)
            } else {
                _ = try withBatch { batch in
                    try add(&batch)
                    return try send(batch, keeping: 0..<0)
                }
            }
        }
    }

    /// ROLLBACK if a transaction is open, dropping the deferred statements.
    public func rollback() {
        deferredUntilCommit = []
        pendingOpening = []
        commitsWithNext = false
        committed = false
        if isOK && isInTransaction { try? run(script: "ROLLBACK") }
    }

    /// Runs `body` in a transaction: COMMIT when it returns, ROLLBACK when it throws.
    public func transaction<T>(_ body: (PGConnection) throws -> T) throws -> T {
        try run(script: "BEGIN")
        let value: T
        do {
            value = try body(self)
            try commit()
        } catch {
            rollback()
            throw error
        }
        return value
    }

    private func preparedName(for sql: String, count: Int) throws -> String {
        if let name = statementNames[sql] { return name }
        if statementNames.count >= PGConnection.statementCacheLimit {
            try run(script: "DEALLOCATE ALL")
            statementNames.removeAll()
        }
        statementCounter += 1
        let name = "hv\(statementCounter)"
        _ = try check(PQprepare(handle, name, sql, Int32(count), nil), statement: name, sql: sql)
        statementNames[sql] = name
        return name
    }

    private func check(_ result: OpaquePointer?, statement: String?, sql: String) throws -> PGResult {
        // Built only on failure: it costs more than a successful statement's own bookkeeping.
        func label() -> String { statement.map { "\($0): \(PGConnection.summary(sql))" } ?? PGConnection.summary(sql) }
        guard let result else {
            throw PGError(kind: .connectionLost, message: PGConnection.errorMessage(handle), statement: label())
        }
        switch PQresultStatus(result) {
        case PGRES_TUPLES_OK, PGRES_COMMAND_OK, PGRES_EMPTY_QUERY:
            return PGResult(handle: result)
        default:
            let error = PGConnection.error(from: result, connection: handle, statement: label())
            PQclear(result)
            throw error
        }
    }

    static func error(from result: OpaquePointer, connection: OpaquePointer, statement: String?) -> PGError {
        func field(_ code: Int32) -> String? {
            guard let value = PQresultErrorField(result, code) else { return nil }
            return String(cString: value)
        }
        let state = field(haven_pg_diag_sqlstate)
        var kind = state.map(PGError.kind(forSQLState:)) ?? .other
        if PQstatus(connection) != CONNECTION_OK { kind = .connectionLost }
        let message = field(haven_pg_diag_message_primary) ?? errorMessage(connection)
        return PGError(
            kind: kind, sqlState: state, message: message, detail: field(haven_pg_diag_message_detail),
            constraint: field(haven_pg_diag_constraint_name), table: field(haven_pg_diag_table_name), statement: statement)
    }

    static func errorMessage(_ connection: OpaquePointer) -> String {
        guard let text = PQerrorMessage(connection) else { return "unknown libpq error" }
        return String(cString: text).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The statement's first line, for logs. SQL text holds no values: they are all parameters.
    static func summary(_ sql: String) -> String {
        let line = sql.split(whereSeparator: \.isNewline).first.map(String.init) ?? sql
        let trimmed = line.trimmingCharacters(in: .whitespaces)
        return trimmed.count > 80 ? String(trimmed.prefix(80)) + "…" : trimmed
    }

}

/// One statement with its parameters, for `pipeline`.
public struct PGStatement: Sendable {
    public var sql: String
    public var parameters: [(any PGEncodable & Sendable)?]

    public init(_ sql: String, _ parameters: [(any PGEncodable & Sendable)?] = []) {
        self.sql = sql
        self.parameters = parameters
    }
}

func withArrayOfCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafePointer<CChar>?>) -> R) -> R {
    let duplicates = strings.map { strdup($0) }
    defer { duplicates.forEach { free($0) } }
    let pointers: [UnsafePointer<CChar>?] = duplicates.map { $0.map { UnsafePointer($0) } } + [nil]
    return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
}
