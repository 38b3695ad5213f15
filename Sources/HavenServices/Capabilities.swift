import HavenCore

/// Which kinds of page an actor's role reaches at all, asked of the access policy, so the
/// console's navigation offers only what the policy would allow.
public struct Capabilities: Sendable, Equatable {
    public var listCases: Bool
    public var listReferrals: Bool
    /// Closes cases at once and approves others' closure requests (else closure is requested).
    public var closesCasesDirectly: Bool
    public var readAuditTrail: Bool
    public var reviewBreakGlass: Bool
    /// Asks for and decides case transfers (the transfers page).
    public var listTransfers: Bool
    public var readReports: Bool
    /// Manages organisations and users.
    public var administer: Bool
    /// Lists users (a supervisor, its organisation's: the case list's assignee filter names them).
    public var listUsers: Bool

    public init(_ actor: Actor) {
        listCases = AccessPolicy.decide(actor, .listCases, .collection).isAllowed
        listReferrals = AccessPolicy.decide(actor, .listReferrals, .collection).isAllowed
        closesCasesDirectly = AccessPolicy.closure(actor) == .closeCase
        readAuditTrail = AccessPolicy.decide(actor, .readAuditTrail, .collection).isAllowed
        reviewBreakGlass = AccessPolicy.decide(actor, .listBreakGlassGrants, .collection).isAllowed
        listTransfers = AccessPolicy.decide(actor, .listCaseTransfers, .collection).isAllowed
        readReports = AccessPolicy.decide(actor, .readReports, .collection).isAllowed
        administer = AccessPolicy.decide(actor, .createOrganisation, .collection).isAllowed
        listUsers = AccessPolicy.decide(actor, .listUsers, .collection).isAllowed
    }
}
