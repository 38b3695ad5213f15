import Foundation
import HavenCore
import Logging
import Postgres
import Sealing

/// Login, logout and password changes. Every attempt is an audit event (S8); the answer to a
/// failed login never says whether the username exists, and an unknown username takes the same
/// path, KDF included (S4).
public struct AuthService: Sendable {
    public struct Settings: Sendable {
        public var lockout: LockoutPolicy
        public var tokenLifetime: Duration

        public init(lockout: LockoutPolicy = LockoutPolicy(), tokenLifetime: Duration = .seconds(12 * 3600)) {
            self.lockout = lockout
            self.tokenLifetime = tokenLifetime
        }
    }

    public struct LoginSuccess: Sendable {
        public var token: String
        public var expiresAt: Date
        public var user: User
    }

    public enum LoginFailure: String, Error, Sendable {
        case invalidCredentials = "invalid-credentials"
        case unknownUser = "unknown-user"
        case locked
        case inactive
        case secondFactor = "second-factor"
    }

    let store: Store
    let hasher: Credentials
    let settings: Settings

    public init(store: Store, hasher: Credentials, settings: Settings) {
        self.store = store
        self.hasher = hasher
        self.settings = settings
    }

    struct LoginRecord: Sendable {
        var id: UUID
        var role: Role
        var passwordHash: String
        var active: Bool
        var lockout: LockoutPolicy.State
    }

    /// Checks the credentials; on success returns a new bearer token. Throws `LoginFailure`
    /// (answer 401 for all of them alike). A role that needs a second factor gives a TOTP code
    /// or one of its recovery codes; one whose user has not enrolled yet logs in with the
    /// password (the one-time enrolment the administrator handed over) into a session that can
    /// only enrol (`AuthenticatedSession.secondFactorEnrolmentRequired`).
    public func login(username: String, password: String, totp: String?, recoveryCode: String? = nil,
                      context: AccessContext) async throws -> LoginSuccess {
        let normalised = username.lowercased()
        let record = try await store.withConnection { connection in
            try connection.query("""
                SELECT id, role, password_hash, active, failed_logins, first_failed_at, locked_until
                FROM app_user WHERE username = $1
                """, [normalised]).first.map { row in
                LoginRecord(
                    id: try row.decode(at: 0), role: try row.code(Role.self, at: 1),
                    passwordHash: try row.decode(at: 2), active: try row.decode(at: 3),
                    lockout: .init(failures: try row.decode(at: 4), firstFailure: try row.decode(at: 5), lockedUntil: try row.decode(at: 6)))
            }
        }
        // The slow part runs with no database connection held.
        let passwordMatches = try await hasher.verify(password, against: record?.passwordHash)
        let settings = self.settings
        let now = Date()
        let outcome: Result<LoginSuccess, LoginFailure> = try await store.transaction(context) { transaction in
            let connection = transaction.connection
            guard let record else {
                try transaction.audit(.execute, .authLoginFailed, outcome: .denied, entityKind: .user, purpose: .authentication,
                                      detail: ["reason": .string(LoginFailure.unknownUser.rawValue)])
                return .failure(.invalidCredentials)
            }
            // Lock the row: concurrent attempts count one by one, and a TOTP step is used once.
            let row = try connection.query("""
                SELECT u.failed_logins, u.first_failed_at, u.locked_until, u.totp_secret, u.totp_last_step, u.organisation_id, o.active
                FROM app_user u JOIN organisation o ON o.id = u.organisation_id WHERE u.id = $1 FOR UPDATE OF u
                """, [record.id])[0]
            let lockout = LockoutPolicy.State(failures: try row.decode(at: 0), firstFailure: try row.decode(at: 1), lockedUntil: try row.decode(at: 2))
            let organisation: UUID = try row.decode(at: 5)
            var failure: LoginFailure?
            var totpStep: Int64?
            var recoveryCodeUsed = false
            let organisationActive: Bool = try row.decode(at: 6)
            if settings.lockout.isLocked(lockout, now: now) {
                failure = .locked
            } else if !record.active || !organisationActive {
                // A user of a deactivated organisation is as inactive as a deactivated user.
                failure = .inactive
            } else if !passwordMatches {
                failure = .invalidCredentials
            } else if record.role.requiresSecondFactor {
                let sealed: [UInt8]? = try row.decode(at: 3)
                let lastStep: Int64? = try row.decode(at: 4)
                if sealed == nil {
                    // Not enrolled: the session that opens can only enrol.
                } else if let totp, let sealed, let secret = try? UserStore.openTOTP(sealed, userID: record.id, keys: transaction.keys),
                   let step = TOTP(secret: secret).matchingStep(totp, at: Int64(now.timeIntervalSince1970)), step > (lastStep ?? -1) {
                    totpStep = step
                } else if totp == nil, let recoveryCode, try SecondFactorStore.spendRecoveryCode(record.id, code: recoveryCode, on: connection) {
                    recoveryCodeUsed = true
                } else {
                    failure = .secondFactor
                }
            }
            let actor = Actor(userID: record.id, organisationID: organisation, role: record.role)
            if let failure {
                if failure != .locked {
                    try AuthService.countFailure(lockout, actor: actor, settings: settings, now: now, on: transaction)
                }
                try transaction.audit(AuditEvent(
                    recorded: now, action: .execute, subtype: .authLoginFailed, outcome: .denied,
                    actorUser: actor.userID, actorOrganisation: actor.organisationID, actorRole: actor.role,
                    entityKind: .user, entityID: record.id.lowercasedString, subjectOrganisation: organisation,
                    purpose: .authentication, detail: ["reason": .string(failure.rawValue)]))
                return .failure(failure)
            }
            try connection.execute("""
                UPDATE app_user SET failed_logins = 0, first_failed_at = NULL, locked_until = NULL,
                    totp_last_step = coalesce($2, totp_last_step)
                WHERE id = $1
                """, [record.id, totpStep])
            let session = try SessionStore.create(userID: record.id, lifetime: settings.tokenLifetime, on: connection)
            guard let user = try UserStore.find(record.id, on: connection) else { return .failure(.invalidCredentials) }
            if recoveryCodeUsed {
                try transaction.audit(AuditEvent(
                    recorded: now, action: .execute, subtype: .authRecoveryCodeUsed, outcome: .success,
                    actorUser: actor.userID, actorOrganisation: actor.organisationID, actorRole: actor.role,
                    entityKind: .user, entityID: record.id.lowercasedString, subjectOrganisation: organisation,
                    purpose: .authentication, detail: ["unused": .int(try SecondFactorStore.unusedRecoveryCodes(record.id, on: connection))]))
            }
            let enrolling = user.role.requiresSecondFactor && !user.hasSecondFactor
            try transaction.audit(AuditEvent(
                recorded: now, action: .execute, subtype: .authLogin, outcome: .success,
                actorUser: actor.userID, actorOrganisation: actor.organisationID, actorRole: actor.role,
                entityKind: .user, entityID: record.id.lowercasedString, subjectOrganisation: organisation,
                purpose: .authentication, detail: enrolling ? ["second_factor": "enrolment-required"] : [:]))
            return .success(LoginSuccess(token: session.token, expiresAt: session.expiresAt, user: user))
        }
        return try outcome.get()
    }

    /// The live session behind a token's hash (not revoked, within its lifetimes, its user and
    /// organisation active), its idle clock refreshed; nil otherwise.
    public func session(tokenHash: [UInt8], idleTimeout: Duration) async throws -> AuthenticatedSession? {
        try await store.withConnection { connection in
            try SessionStore.authenticate(tokenHash: tokenHash, idleTimeout: idleTimeout, on: connection)
        }
    }

    public func logout(tokenHash: [UInt8], context: AccessContext) async throws {
        try await store.transaction(context) { transaction in
            try SessionStore.revoke(tokenHash: tokenHash, on: transaction.connection)
            try transaction.audit(.execute, .authLogout, entityKind: .user, entityID: transaction.actor?.userID.lowercasedString,
                                  subjectOrganisation: transaction.actor?.organisationID, purpose: .authentication)
        }
    }

    /// The user's own change: the current password must be right; other sessions end. Wrong
    /// current passwords count towards the account's lockout like failed logins, so a stolen
    /// token cannot be used to guess the password.
    public func changePassword(current: String, new: String, username: String, tokenHash: [UInt8]?, context: AccessContext) async throws {
        guard let actor = context.actor else { throw StoreError.forbidden("log in first") }
        let stored = try await store.withConnection { connection in
            try connection.query("SELECT password_hash FROM app_user WHERE id = $1", [actor.userID]).first?.decode(String.self, at: 0)
        }
        let matches = try await hasher.verify(current, against: stored)
        let settings = self.settings
        let refusal: String? = try await store.transaction(context) { transaction in
            let check = try AuthService.secondCheck(actor: actor, settings: settings, on: transaction) { matches }
            guard check != .passed else { return nil }
            try transaction.audit(.update, .authPasswordChange, outcome: .denied, entityKind: .user,
                                  entityID: actor.userID.lowercasedString, subjectOrganisation: actor.organisationID,
                                  purpose: .authentication, detail: ["reason": .string(check == .locked ? "locked" : "current-password-wrong")])
            return check == .locked ? "cannot be checked now: too many wrong attempts; try again later" : "is not your current password"
        }
        if let refusal { throw StoreError.invalid(ValidationFailure("current_password", refusal)) }
        if let problem = PasswordPolicy.violation(new, username: username) {
            throw StoreError.invalid(ValidationFailure("new_password", problem))
        }
        if new == current { throw StoreError.invalid(ValidationFailure("new_password", "must differ from the current password")) }
        let hash = try await hasher.hash(new)
        try await store.transaction(context) { transaction in
            try UserStore.changePassword(actor.userID, passwordHash: hash, keepSession: tokenHash, on: transaction.connection)
            try transaction.audit(.update, .authPasswordChange, entityKind: .user, entityID: actor.userID.lowercasedString,
                                  subjectOrganisation: actor.organisationID, purpose: .authentication, detail: ["fields": ["password"]])
        }
    }

    /// Checks a password or TOTP code given again for a sensitive action (a subject-access
    /// export). Every check is an audit event; a TOTP step is good once; failures count towards
    /// the account's lockout, and a locked account passes no check.
    public func reauthenticate(password: String?, totp: String?, context: AccessContext) async throws -> Bool {
        guard let actor = context.actor else { return false }
        var ok = false
        if let password {
            let stored = try await store.withConnection { connection in
                try connection.query("SELECT password_hash FROM app_user WHERE id = $1 AND active", [actor.userID]).first?.decode(String.self, at: 0)
            }
            ok = try await hasher.verify(password, against: stored)
        }
        let now = Date()
        let outcome = ok
        let settings = self.settings
        return try await store.transaction(context) { transaction in
            let check = try AuthService.secondCheck(actor: actor, settings: settings, now: now, on: transaction) {
                if outcome { return true }
                guard let totp, let row = try transaction.connection.query(
                    "SELECT totp_secret, totp_last_step FROM app_user WHERE id = $1", [actor.userID]).first,
                      let sealed: [UInt8] = try row.decode(at: 0),
                      let secret = try? UserStore.openTOTP(sealed, userID: actor.userID, keys: transaction.keys),
                      let step = TOTP(secret: secret).matchingStep(totp, at: Int64(now.timeIntervalSince1970)),
                      step > (try row.decode(Int64?.self, at: 1) ?? -1)
                else { return false }
                try transaction.connection.execute("UPDATE app_user SET totp_last_step = $2 WHERE id = $1", [actor.userID, step])
                return true
            }
            var detail: [String: AuditDetail] = ["method": .string(password != nil ? "password" : "totp")]
            if check == .locked { detail["reason"] = "locked" }
            try transaction.audit(.execute, check == .passed ? .authReauthenticate : .authReauthenticateFailed,
                                  outcome: check == .passed ? .success : .denied,
                                  entityKind: .user, entityID: actor.userID.lowercasedString, subjectOrganisation: actor.organisationID,
                                  purpose: .authentication, detail: detail)
            return check == .passed
        }
    }

    enum SecondCheck: Equatable { case passed, failed, locked }

    /// A logged-in user's password or code checked again, against the account's lockout: a
    /// locked account is not checked at all, a failure counts (and may lock, audited as at
    /// login), a pass clears the count. Runs with the user's row locked, so attempts count one
    /// by one and a TOTP step is spent once.
    static func secondCheck(
        actor: Actor, settings: Settings, now: Date = Date(), on transaction: StoreTransaction, _ check: () throws -> Bool
    ) throws -> SecondCheck {
        let connection = transaction.connection
        guard let row = try connection.query(
            "SELECT failed_logins, first_failed_at, locked_until FROM app_user WHERE id = $1 FOR UPDATE", [actor.userID]).first
        else { return .failed }
        let state = LockoutPolicy.State(failures: try row.decode(at: 0), firstFailure: try row.decode(at: 1), lockedUntil: try row.decode(at: 2))
        if settings.lockout.isLocked(state, now: now) { return .locked }
        if try check() {
            if state.failures > 0 {
                try connection.execute("UPDATE app_user SET failed_logins = 0, first_failed_at = NULL WHERE id = $1", [actor.userID])
            }
            return .passed
        }
        try countFailure(state, actor: actor, settings: settings, now: now, on: transaction)
        return .failed
    }

    /// A wrong password or code, at login or checked again: counted against the account's
    /// lockout, and the lock it may set audited. The caller holds the user's row locked.
    private static func countFailure(
        _ state: LockoutPolicy.State, actor: Actor, settings: Settings, now: Date, on transaction: StoreTransaction
    ) throws {
        let next = settings.lockout.afterFailure(state, now: now)
        try transaction.connection.execute("UPDATE app_user SET failed_logins = $2, first_failed_at = $3, locked_until = $4 WHERE id = $1",
                                           [actor.userID, next.failures, next.firstFailure, next.lockedUntil])
        if next.lockedUntil != nil && next.lockedUntil != state.lockedUntil {
            // The actor named outright: at login the transaction has none yet.
            try transaction.audit(AuditEvent(
                recorded: now, action: .update, subtype: .authLockout, outcome: .denied,
                actorUser: actor.userID, actorOrganisation: actor.organisationID, actorRole: actor.role,
                entityKind: .user, entityID: actor.userID.lowercasedString, subjectOrganisation: actor.organisationID,
                purpose: .authentication))
        }
    }

    /// Records a rejected bearer token (S8: every authentication decision is audited).
    public func recordRejectedToken(context: AccessContext, reason: String) async throws {
        try await recordRefusal(.authTokenRejected, context: context, detail: ["reason": .string(reason)])
    }

    /// An address starts being held back (`limit`: what it sent too much of). Once per spell,
    /// not per refused request: a flood must not become a flood of events. The refusal stands
    /// whether or not its event could be written (a lost database must not turn 429 into 503).
    public func recordRateLimited(context: AccessContext, limit: String) async {
        do {
            try await recordRefusal(.authRateLimited, context: context, detail: ["limit": .string(limit)])
        } catch {
            store.logger.error("could not record a rate-limited address", metadata: ["error": "\(PGError.loggable(error))"])
        }
    }

    /// A user who must change their password asked for something else.
    public func recordPasswordChangeRequired(context: AccessContext) async throws {
        try await recordRefusal(.authPasswordChangeRequired, context: context, detail: [:])
    }

    /// A user who must enrol a second factor asked for something else.
    public func recordEnrolmentRequired(context: AccessContext) async throws {
        try await recordRefusal(.authSecondFactorEnrolmentRequired, context: context, detail: [:])
    }

    private func recordRefusal(_ subtype: AuditSubtype, context: AccessContext, detail: [String: AuditDetail]) async throws {
        try await store.transaction(context) { transaction in
            try transaction.audit(.execute, subtype, outcome: .denied, purpose: .authentication, detail: detail)
        }
    }
}
