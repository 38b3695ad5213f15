import Foundation
import HavenCore
import NIOConcurrencyHelpers

/// Dates as the viewer reads them: in their language, in their organisation's time zone.
/// Made for every row of a page, so it holds only names: the locale and zone behind them are
/// built once, with their formatter.
struct ConsoleFormat {
    let locale: String
    let timeZone: String

    /// The time zone of an organisation's country (the NRS countries Haven serves first),
    /// UTC elsewhere.
    static func timeZone(country: String) -> String {
        zones[country] ?? "UTC"
    }

    private static let zones = ["MD": "Europe/Chisinau", "RO": "Europe/Bucharest", "UA": "Europe/Kyiv", "RU": "Europe/Moscow", "GB": "Europe/London",
                                "DE": "Europe/Berlin", "IT": "Europe/Rome", "FR": "Europe/Paris", "PL": "Europe/Warsaw", "TR": "Europe/Istanbul"]
    private static let locales: [Language: String] = [.en: "en_GB", .ro: "ro_MD", .ru: "ru_MD", .uk: "uk_UA"]

    init(language: Language, country: String) {
        locale = ConsoleFormat.locales[language] ?? "en_GB"
        timeZone = ConsoleFormat.timeZone(country: country)
    }

    func dateTime(_ date: Date) -> String {
        Formatters.shared.string(date, locale: locale, timeZone: timeZone, time: true)
    }

    /// A calendar date is a day, not an instant: it is shown as that day wherever the viewer is.
    func date(_ date: CalendarDate) -> String {
        var components = DateComponents()
        (components.year, components.month, components.day, components.hour) = (date.year, date.month, date.day, 12)
        guard let moment = ConsoleFormat.utcCalendar.date(from: components) else { return date.description }
        return Formatters.shared.string(moment, locale: locale, timeZone: "UTC", time: false)
    }

    private static let utcCalendar: Calendar = {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC") ?? .current
        return calendar
    }()
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

    func string(_ date: Date, locale: String, timeZone: String, time: Bool) -> String {
        let key = Key(locale: locale, timeZone: timeZone, time: time)
        return formatters.withLockedValue { formatters in
            let formatter: DateFormatter
            if let made = formatters[key] {
                formatter = made
            } else {
                formatter = DateFormatter()
                formatter.locale = Locale(identifier: locale)
                formatter.timeZone = TimeZone(identifier: timeZone) ?? TimeZone(identifier: "UTC") ?? .current
                formatter.dateStyle = .medium
                formatter.timeStyle = time ? .short : .none
                formatters[key] = formatter
            }
            return formatter.string(from: date)
        }
    }
}
