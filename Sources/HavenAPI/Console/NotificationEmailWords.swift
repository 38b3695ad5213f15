import Foundation
import HavenCore
import HavenStore

/// The words of notification emails, from the console's catalogue, so an email reads as the
/// console does in the user's language.
public struct NotificationEmailWords: Sendable {
    let catalogue: Catalogue

    /// Reads the catalogue shipped beside the binary, as the console does.
    public static func load() throws -> NotificationEmailWords {
        guard let root = ConsoleRenderer.resourceRoot() else {
            throw StoreError.configuration("the console's resources are missing beside the haven binary")
        }
        return NotificationEmailWords(catalogue: try Catalogue(directory: root.appendingPathComponent("messages")))
    }

    public func text(_ message: NotificationMessage, _ language: Language) -> NotificationEmailText {
        NotificationEmailText(
            event: catalogue.text(ConsoleController.notificationKey(message.kind), language),
            caseLabel: catalogue.text("email.case", language),
            priorityLabel: catalogue.text("email.priority", language),
            priority: catalogue.label("priority", message.priority.rawValue, language),
            openLabel: catalogue.text("email.open", language),
            footer: catalogue.text("email.footer", language))
    }
}
