import Foundation
import HavenCore
import HavenStore

/// What users set for themselves: the console's language.
public struct AccountService: Sendable {
    let store: Store

    public init(store: Store) {
        self.store = store
    }

    /// The language the user chose, or nil when they never chose.
    public func language(of userID: UUID) async throws -> Language? {
        try await store.withConnection { connection in
            try UserStore.language(of: userID, on: connection)
        }
    }

    /// Stores the user's choice; audited as a change of their own account.
    public func setLanguage(_ language: Language, context: AccessContext) async throws {
        guard let actor = context.actor else { throw StoreError.forbidden("log in first") }
        try await store.transaction(context) { transaction in
            try UserStore.setLanguage(language, of: actor.userID, on: transaction.connection)
            try transaction.audit(.update, .userUpdate, entityKind: .user, entityID: actor.userID.lowercasedString,
                                  subjectOrganisation: actor.organisationID, purpose: .administration, detail: ["fields": ["language"]])
        }
    }
}
