import Foundation
import HavenCore
import HavenStore

/// A user asked for more cross-organisation duplicate hints than an hour allows (429).
public struct DuplicateHintLimited: Error, Sendable {
    /// Seconds until the next hint may be given.
    public var retryAfter: Int
}

extension CaseService {
    /// Stores the case's blind index and tells the caller what the access policy lets them
    /// learn: their own organisation's matching references always; whether another
    /// organisation has the person only within their reach, counted against the hourly limit
    /// (refused before anything is written when spent) and recorded as `duplicate.hint`.
    static func duplicateHint(caseID: UUID, identity: PersonIdentity?, birthYear: Int?, on transaction: StoreTransaction) throws -> DuplicateHint {
        guard let actor = transaction.actor else { throw StoreError.forbidden("log in first") }
        let checkable = BlindIndexInput.make(identity: identity, birthYear: birthYear) != nil
        let reach = AccessPolicy.duplicateHintReach(actor)
        if checkable, reach == .everyOrganisation {
            let now = Date()
            let given = try DuplicateCheck.hintsGiven(to: actor.userID, since: now.addingTimeInterval(-DuplicateHintLimit.window),
                                                      on: transaction.connection)
            if given.count >= DuplicateHintLimit.perHour {
                throw DuplicateHintLimited(retryAfter: DuplicateHintLimit.retryAfter(oldest: given.oldest ?? now, now: now))
            }
        }
        let found = try DuplicateCheck.record(caseID: caseID, identity: identity, birthYear: birthYear, keys: transaction.keys,
                                              on: transaction.connection)
        guard checkable else { return found }
        switch reach {
        case .everyOrganisation:
            // Counts, never a name, a reference or the other organisation.
            try transaction.audit(.read, .duplicateHint, entityKind: .caseFile, entityID: caseID.lowercasedString, caseID: caseID,
                                  subjectOrganisation: actor.organisationID, purpose: .caseManagement,
                                  detail: ["same_organisation": .int(found.sameOrganisation.count),
                                           "other_organisation": .bool(found.otherOrganisation == true)])
            return found
        case .ownOrganisation:
            return DuplicateHint(sameOrganisation: found.sameOrganisation, otherOrganisation: nil, askSupervisor: true)
        }
    }
}
