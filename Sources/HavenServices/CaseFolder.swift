import Foundation
import HavenCore
import HavenStore

/// Everything the case page shows, read on one snapshot: the case, its needs, services,
/// consents, referrals and recent changes, with names for the people and organisations in them.
public struct CaseFolder: Sendable {
    public var file: CaseFile
    public var needs: [Need]
    public var services: [ServiceEpisode]
    public var consents: [Consent]
    public var referrals: [Referral]
    public var history: Page<AuditRecord>
    public var names: DirectoryService.Names
    /// Whom the viewer may assign the case to (empty unless the policy lets them assign it).
    public var assignees: [User]
    /// When the viewer's emergency access ends, when the case is open to them through break-glass.
    public var emergencyUntil: Date?
}

extension CaseService {
    /// The whole case as one read: authorised once, audited once as `case.read` with the parts
    /// shown and their counts (S1, S10), so a page view costs one transaction, and the trail holds
    /// one event per view that says everything the viewer saw.
    public func folder(_ id: UUID, historyLimit: Int, context: AccessContext) async throws -> CaseFolder {
        guard let actor = context.actor else { throw StoreError.notFound("no such case") }
        let keys = store.keys
        return try await store.snapshot(context) { transaction in
            let access = try transaction.authorizeAndLoadCase(id, .readCase, open: true)
            _ = try transaction.authorize(.readCaseDetails, .caseRecord(access.facts), entityKind: .caseFile, entityID: id.lowercasedString,
                                          caseID: id, subjectOrganisation: access.facts.owningOrganisation)
            let connection = transaction.connection
            let needs = try NeedStore.list(caseID: id, keys: keys, on: connection)
            let services = try ServiceStore.list(caseID: id, keys: keys, on: connection)
            let consents = try ConsentStore.list(caseID: id, keys: keys, on: connection)
            let referrals = try ReferralStore.list(caseID: id, keys: keys, on: connection)
            let history = try AuditQuery.caseHistory(id, after: nil, limit: historyLimit, on: connection)
            try transaction.audit(.read, .caseRead, entityKind: .caseFile, entityID: id.lowercasedString, caseID: id,
                                  subjectOrganisation: access.facts.owningOrganisation, purpose: access.purpose,
                                  detail: ["view": "case-page", "needs": .int(needs.count), "services": .int(services.count),
                                           "consents": .int(consents.count), "referrals": .int(referrals.count),
                                           "history": .int(history.items.count)])
            let file = access.file
            var users: Set<UUID> = [file.createdBy]
            if let assignee = file.assignee { users.insert(assignee) }
            users.formUnion(history.items.compactMap(\.actorUser))
            var organisations: Set<UUID> = [file.organisationID]
            organisations.formUnion(referrals.flatMap { [$0.fromOrganisation, $0.toOrganisation] })
            organisations.formUnion(consents.flatMap { $0.provisions.map(\.recipientOrganisation) })
            organisations.formUnion(services.compactMap(\.providerOrganisation))
            let names = try DirectoryService.names(users: users, organisations: organisations, viewer: actor, on: connection)
            var assignees: [User] = []
            if file.status == .open, AccessPolicy.decide(actor, .assignCase, .caseRecord(access.facts)).isAllowed {
                assignees = try UserStore.list(organisation: file.organisationID, role: nil, after: nil, limit: 500, on: connection).items
                    .filter { $0.active && $0.role.worksCases }
            }
            let emergencyUntil = access.purpose == .breakGlass
                ? try BreakGlassStore.runningUntil(caseID: id, holder: actor.userID, on: connection) : nil
            return CaseFolder(file: file, needs: needs, services: services, consents: consents, referrals: referrals, history: history,
                              names: names, assignees: assignees, emergencyUntil: emergencyUntil)
        }
    }
}
