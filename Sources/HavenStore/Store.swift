import Foundation
import HavenCore
import Logging
import Postgres
import Sealing

/// On whose behalf a transaction runs. Row-level security reads these settings, so a query that
/// forgot its filter still sees nothing outside the actor's scope.
public struct AccessContext: Sendable {
    public enum Principal: Sendable, Equatable {
        case user(Actor)
        /// Not yet authenticated (login): sees no case data.
        case anonymous
        /// Haven itself (sealer, retention, bootstrap): sees everything it must process.
        case system
    }

    public var principal: Principal
    public var requestID: String?
    public var clientAddress: String?

    public init(principal: Principal, requestID: String? = nil, clientAddress: String? = nil) {
        self.principal = principal
        self.requestID = requestID
        self.clientAddress = clientAddress
    }

    public static func user(_ actor: Actor, requestID: String? = nil, clientAddress: String? = nil) -> AccessContext {
        AccessContext(principal: .user(actor), requestID: requestID, clientAddress: clientAddress)
    }

    public static let system = AccessContext(principal: .system)

    public var actor: Actor? {
        if case .user(let actor) = principal { return actor }
        return nil
    }
}

/// The database as Haven sees it: a pool of application-role connections, the key ring, and
/// transactions that carry their actor and write their audit events.
public final class Store: Sendable {
    public let pool: PGPool
    public let keys: KeyRing
    public let logger: Logger
    let auditKey: (id: String, key: [UInt8])
    /// Keys the links of the audit chain: without it nobody can rebuild a link (S9).
    let chainKey: (id: String, key: [UInt8])

    /// Rung by every committed transaction that notified someone (`StoreTransaction.notify`).
    public let notificationBell = NotificationBell()

    public init(pool: PGPool, keys: KeyRing, logger: Logger = Logger(label: "haven.store")) throws {
        self.pool = pool
        self.keys = keys
        self.logger = logger
        self.auditKey = try keys.derivedKey(purpose: "audit-mac")
        self.chainKey = try keys.derivedKey(purpose: AuditSealer.chainKeyPurpose)
    }

    /// Runs `body` in one transaction as `context`. Everything it writes, its audit events
    /// included, commits together or not at all.
    @discardableResult
    public func transaction<T: Sendable>(
        _ context: AccessContext, isolation: PGIsolation = .readCommitted, _ body: @escaping @Sendable (StoreTransaction) throws -> T
    ) async throws -> T {
        do {
            let (result, notified) = try await pool.transaction(isolation, prelude: StoreTransaction.settings(context, writes: isolation != .repeatableReadOnly)) {
                connection in
                let transaction = StoreTransaction(connection: connection, context: context, store: self)
                return (try body(transaction), transaction.notified)
            }
            if notified { notificationBell.ring() }
            return result
        } catch let error as PGError {
            throw Store.translate(error)
        } catch let denial as AccessDenied {
            throw try await recordDenial(denial, context: context)
        }
    }

    /// A transaction on one snapshot, for long consistent reads (reports, exports) that still
    /// write their audit event.
    public func snapshot<T: Sendable>(_ context: AccessContext, _ body: @escaping @Sendable (StoreTransaction) throws -> T) async throws -> T {
        try await transaction(context, isolation: .repeatableRead, body)
    }

    /// A read-only transaction on one snapshot (reports; works on a hot standby).
    public func readOnly<T: Sendable>(_ context: AccessContext, _ body: @escaping @Sendable (StoreTransaction) throws -> T) async throws -> T {
        try await transaction(context, isolation: .repeatableReadOnly, body)
    }

    /// Runs statements outside a transaction, with no actor: for lookups of tables without
    /// row-level security (sessions), where one round trip matters.
    public func withConnection<T: Sendable>(_ body: @escaping @Sendable (PGConnection) throws -> T) async throws -> T {
        do {
            return try await pool.withConnection(body)
        } catch let error as PGError {
            throw Store.translate(error)
        }
    }

    /// Every database failure in the store's terms, so the layers above never see the driver's:
    /// "try later" is `.unavailable` (503), a constraint the request broke is a conflict or an
    /// invalid value, anything else a failure told by kind, SQLSTATE and statement only.
    static func translate(_ error: PGError) -> any Error {
        // The request did not break the audit trail's rules: Haven failed to write its event, so
        // the action failed with it, and that is Haven's fault, not a bad value.
        if error.table == "audit_event" { return StoreError.database(PGError.loggable(error)) }
        switch error.kind {
        case .connectionLost, .poolTimeout, .poolClosed, .queryCancelled, .serializationFailure, .deadlock, .lockNotAvailable:
            return StoreError.unavailable(error.kind == .queryCancelled ? "the database took too long" : "the database is unavailable")
        case .uniqueViolation:
            return StoreError.conflict("a record with these values already exists", field: nil)
        case .invalidTextRepresentation, .checkViolation, .foreignKeyViolation, .notNullViolation:
            return StoreError.rejected
        default:
            return StoreError.database(PGError.loggable(error))
        }
    }
}

/// One transaction on behalf of an actor. Not `Sendable`: it lives on the pool thread that runs
/// the transaction.
public final class StoreTransaction {
    public let connection: PGConnection
    public let context: AccessContext
    let store: Store
    /// The transaction's id once known, and how many audit events it wrote: each event's MAC
    /// covers both, so a copy of an event under another id or transaction does not verify (S9).
    private var transactionID: Int64?
    private var writtenEvents: Int32 = 0
    /// Whether it wrote to the notification outbox: its commit rings the store's bell.
    var notified = false

    init(connection: PGConnection, context: AccessContext, store: Store) {
        self.connection = connection
        self.context = context
        self.store = store
    }

    public var actor: Actor? { context.actor }
    public var keys: KeyRing { store.keys }

    /// The statement that sets the transaction's actor for row-level security; it runs in the
    /// same round trip as BEGIN. A transaction that may write also learns its id there, which its
    /// audit events' MACs cover, without a round trip of its own.
    static func settings(_ context: AccessContext, writes: Bool = true) -> PGStatement {
        // UUIDs bind as their upper-case text, which is what the policy's SQL helpers compare.
        let user: (any PGEncodable & Sendable), organisation: (any PGEncodable & Sendable), role: String
        switch context.principal {
        case .user(let actor):
            user = actor.userID
            organisation = actor.organisationID
            role = actor.role.rawValue
        case .anonymous:
            (user, organisation, role) = ("", "", "none")
        case .system:
            (user, organisation, role) = ("", "", "system")
        }
        return PGStatement(
            writes ? settingsSQL + ", pg_current_xact_id()::text::bigint" : settingsSQL,
            [user, organisation, role])
    }

    static let settingsSQL = "SELECT set_config('haven.user_id', $1, true), set_config('haven.org_id', $2, true), set_config('haven.role', $3, true)"

    /// Where the next audit event sits: this transaction's id and the event's index among its
    /// events. The id comes with the opening's answer; a transaction that audits before any
    /// statement asks for it (one round trip).
    func nextEventPosition() throws -> AuditPosition {
        let xid: Int64
        if let known = transactionID {
            xid = known
        } else if let opening = connection.openingResult, opening.columnCount == 4, let value = try opening.first?.decode(Int64.self, at: 3) {
            xid = value
        } else {
            xid = try connection.query("SELECT pg_current_xact_id()::text::bigint")[0].decode(at: 0)
        }
        transactionID = xid
        defer { writtenEvents += 1 }
        return AuditPosition(xid: xid, index: writtenEvents)
    }

    /// Writes an audit event in this transaction, filling in the actor, address and request id.
    public func audit(_ event: AuditEvent) throws {
        var event = event
        if let actor = context.actor {
            event.actorUser = event.actorUser ?? actor.userID
            event.actorOrganisation = event.actorOrganisation ?? actor.organisationID
            event.actorRole = event.actorRole ?? actor.role
        }
        event.actorAddress = event.actorAddress ?? context.clientAddress
        event.requestID = event.requestID ?? context.requestID
        try AuditWriter.insert(event, key: store.auditKey, position: try nextEventPosition(), on: connection)
    }

    /// Writes an event for a change Haven itself made, such as a referral ended because its
    /// consent lapsed: no actor and no address (whoever's request noticed it did not make it);
    /// the request id stays, to trace what set it off.
    public func auditAsHaven(_ event: AuditEvent) throws {
        var event = event
        event.requestID = event.requestID ?? context.requestID
        try AuditWriter.insert(event, key: store.auditKey, position: try nextEventPosition(), on: connection)
    }

    /// Writes many events as they are, in one statement sent now, each with its own MAC: for bulk
    /// loads whose events already name their actor.
    public func auditBatch(_ events: [AuditEvent]) throws {
        let positions = try events.map { _ in try nextEventPosition() }
        try AuditWriter.insertBatch(events, key: store.auditKey, positions: positions, on: connection)
    }

    /// Sends the transaction's next statement with its audit events and COMMIT, in one round
    /// trip. Only when every decision and event is made before that statement: nothing may be
    /// audited after it.
    public func commitWithNextStatement() {
        connection.commitWithNextStatement()
    }

    /// An event stamped now, from this transaction's actor.
    public func audit(
        _ action: AuditEvent.Action, _ subtype: AuditSubtype, outcome: AuditEvent.Outcome = .success,
        entityKind: EntityKind? = nil, entityID: String? = nil, caseID: UUID? = nil, subjectOrganisation: UUID? = nil,
        purpose: Purpose, detail: [String: AuditDetail] = [:]
    ) throws {
        try audit(AuditEvent(
            recorded: Date(), action: action, subtype: subtype, outcome: outcome,
            entityKind: entityKind, entityID: entityID, caseID: caseID, subjectOrganisation: subjectOrganisation,
            purpose: purpose, detail: detail))
    }
}
