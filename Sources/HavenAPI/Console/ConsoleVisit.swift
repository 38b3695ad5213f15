import Foundation
import HavenCore
import HavenServices
import HavenStore
import Hummingbird

/// One console request whose session cookie checked out: who is asking, in which language,
/// and the form token their forms carry.
struct ConsoleVisit {
    var session: AuthenticatedSession
    var tokenHash: [UInt8]
    var language: Language
    var formToken: String
    var context: HavenRequestContext
    var path: String
    /// Came over TLS: cookies take `Secure` and the `__Host-` prefix.
    var secure: Bool
    /// How many of the user's notifications are unread, for the header (nil until the first
    /// login's steps are done, or when the count could not be read).
    var unread: Int?

    var actor: Actor { session.actor }
    var access: AccessContext { context.access }
    var format: ConsoleFormat { ConsoleFormat(language: language, country: session.organisation.country) }
}

/// A message next to a form field, already in the page's language.
struct FieldMessage {
    var field: String
    var text: String
}
