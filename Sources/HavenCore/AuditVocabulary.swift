/// Every kind of event Haven writes to its audit trail, spelled as it is stored: `type.detail`,
/// the first word naming the event's type (`case.read` is a `case` event). A new kind of event
/// is a new case here. Events read back from the trail keep the stored text: a verifier must read what was signed,
/// whatever this list says today.
public enum AuditSubtype: String, ClosedSet {
    case accessDenied = "access.denied"

    case auditCheckpoint = "audit.checkpoint"
    case auditRead = "audit.read"
    case auditVerify = "audit.verify"

    case authLockout = "auth.lockout"
    case authLogin = "auth.login"
    case authLoginFailed = "auth.login-failed"
    case authLogout = "auth.logout"
    case authPasswordChange = "auth.password-change"
    case authPasswordChangeRequired = "auth.password-change-required"
    case authRateLimited = "auth.rate-limited"
    case authReauthenticate = "auth.reauthenticate"
    case authReauthenticateFailed = "auth.reauthenticate-failed"
    case authRecoveryCodeUsed = "auth.recovery-code-used"
    case authSecondFactorEnrol = "auth.second-factor-enrol"
    case authSecondFactorEnrolmentRequired = "auth.second-factor-enrolment-required"
    case authTokenRejected = "auth.token-rejected"

    case breakglassList = "breakglass.list"
    case breakglassRead = "breakglass.read"
    case breakglassReview = "breakglass.review"
    case breakglassStart = "breakglass.start"

    case caseAnonymise = "case.anonymise"
    case caseAssign = "case.assign"
    case caseClose = "case.close"
    case caseCloseDecline = "case.close-decline"
    case caseCloseRequest = "case.close-request"
    case caseClosureReview = "case.closure-review"
    case caseCreate = "case.create"
    case caseErase = "case.erase"
    case caseHistory = "case.history"
    case caseList = "case.list"
    case caseRead = "case.read"
    case caseReopen = "case.reopen"
    case caseTransferCancel = "case.transfer-cancel"
    case caseTransferDecline = "case.transfer-decline"
    case caseTransferList = "case.transfer-list"
    case caseTransferRead = "case.transfer-read"
    case caseTransferRequest = "case.transfer-request"
    case caseTransferred = "case.transferred"
    case caseUpdate = "case.update"

    case consentAmend = "consent.amend"
    case consentCreate = "consent.create"
    case consentList = "consent.list"
    case consentRead = "consent.read"
    case consentWithdraw = "consent.withdraw"

    case duplicateHint = "duplicate.hint"

    case export

    case idempotencyReplay = "idempotency.replay"

    case keysRotate = "keys.rotate"
    case keysSealFreeText = "keys.seal-free-text"

    case needClose = "need.close"
    case needCreate = "need.create"
    case needList = "need.list"
    case needRead = "need.read"

    case notificationList = "notification.list"
    case notificationRead = "notification.read"
    case notificationReadAll = "notification.read-all"

    case organisationCreate = "organisation.create"
    case organisationUpdate = "organisation.update"

    case referralCreate = "referral.create"
    case referralHandler = "referral.handler"
    case referralHistory = "referral.history"
    case referralList = "referral.list"
    case referralRead = "referral.read"
    case referralTransition = "referral.transition"

    case reportCases = "report.cases"
    case reportReferrals = "report.referrals"
    case reportTurnaround = "report.turnaround"

    case serviceCreate = "service.create"
    case serviceExtend = "service.extend"
    case serviceList = "service.list"
    case serviceOverdue = "service.overdue"
    case serviceRead = "service.read"
    case serviceSessionCreate = "service.session.create"
    case serviceSessionUpdate = "service.session.update"
    case serviceUpdate = "service.update"

    case userCreate = "user.create"
    case userSecondFactorReset = "user.second-factor-reset"
    case userUpdate = "user.update"

    case webhookCreate = "webhook.create"
    case webhookDelete = "webhook.delete"
    case webhookReplay = "webhook.replay"
    case webhookRotate = "webhook.rotate"

    case worklistRead = "worklist.read"

    /// `case.read` → `case`.
    public var type: String { AuditEvent.type(of: rawValue) }
}

/// What an audit event is about: `entity_kind` in the trail.
public enum EntityKind: String, ClosedSet {
    case caseFile = "case"
    case referral
    case consent
    case need
    case service
    case user
    case organisation
    case webhook
    case notification
    case report
    case worklist
    case breakGlassGrant = "break-glass-grant"
    case caseTransfer = "case-transfer"
    case auditEvent = "audit-event"
    case auditTrail = "audit-trail"
    case auditCheckpoint = "audit-checkpoint"
}

/// The records a case holds beside its file, read and listed alike under `readCaseDetails`.
public enum CaseDetailKind: String, ClosedSet, Sendable {
    case need, consent, service

    public var entity: EntityKind {
        switch self {
        case .need: return .need
        case .consent: return .consent
        case .service: return .service
        }
    }

    /// The event of reading one.
    public var read: AuditSubtype {
        switch self {
        case .need: return .needRead
        case .consent: return .consentRead
        case .service: return .serviceRead
        }
    }

    /// The event of listing a case's.
    public var listed: AuditSubtype {
        switch self {
        case .need: return .needList
        case .consent: return .consentList
        case .service: return .serviceList
        }
    }
}
