import Foundation
import HavenCore
import NIOConcurrencyHelpers

/// Dates as the viewer reads them: in their language, in their organisation's time zone.
struct ConsoleFormat {
    let locale: Locale
    let timeZone: TimeZone

    /// The time zone of an organisation's country (the NRS countries Haven serves first),
    /// UTC elsewhere.
    static func timeZone(country: String) -> TimeZone {
        let zones = ["MD": "Europe/Chisinau", "RO": "Europe/Bucharest", "UA": "Europe/Kyiv", "RU": "Europe/Moscow", "GB": "Europe/London",
                     "DE": "Europe/Berlin", "IT": "Europe/Rome", "FR": "Europe/Paris", "PL": "Europe/Warsaw", "TR": "Europe/Istanbul"]
        return zones[country].flatMap(TimeZone.init(identifier:)) ?? utc
    }

    static let utc = TimeZone(identifier: "UTC") ?? .current

    init(language: Language, country: String) {
        let identifiers: [Language: String] = [.en: "en_GB", .ro: "ro_MD", .ru: "ru_MD", .uk: "uk_UA"]
        locale = Locale(identifier: identifiers[language] ?? "en_GB")
        timeZone = ConsoleFormat.timeZone(country: country)
    }

    func dateTime(_ date: Date) -> String {
        Formatters.shared.string(date, locale: locale, timeZone: timeZone, time: true)
    }

    /// A calendar date is a day, not an instant: it is shown as that day wherever the viewer is.
    func date(_ date: CalendarDate) -> String {
        var components = DateComponents()
        (components.year, components.month, components.day, components.hour) = (date.year, date.month, date.day, 12)
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = ConsoleFormat.utc
        guard let moment = calendar.date(from: components) else { return date.description }
        return Formatters.shared.string(moment, locale: locale, timeZone: ConsoleFormat.utc, time: false)
    }
}

/// One `DateFormatter` per language, zone and style, made once: making one costs far more than
/// using it (a worklist of 65 rows spent most of its time making formatters). A formatter is
/// not safe to share between threads, so each is used under the lock.
private final class Formatters: Sendable {
    static let shared = Formatters()

    private struct Key: Hashable {
        var locale: String
        var timeZone: String
        var time: Bool
    }

    private let formatters = NIOLockedValueBox<[Key: DateFormatter]>([:])

    func string(_ date: Date, locale: Locale, timeZone: TimeZone, time: Bool) -> String {
        let key = Key(locale: locale.identifier, timeZone: timeZone.identifier, time: time)
        return formatters.withLockedValue { formatters in
            let formatter: DateFormatter
            if let made = formatters[key] {
                formatter = made
            } else {
                formatter = DateFormatter()
                formatter.locale = locale
                formatter.timeZone = timeZone
                formatter.dateStyle = .medium
                formatter.timeStyle = time ? .short : .none
                formatters[key] = formatter
            }
            return formatter.string(from: date)
        }
    }
}
