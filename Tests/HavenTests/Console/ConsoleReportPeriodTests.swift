import Foundation
import HavenCore
import HTTPTypes
import HummingbirdTesting
import Testing

/// The reports page offers calendar months, quarters and years only; anything else sent as the
/// period is refused next to the field in the reader's language; a supervisor reads their own
/// organisation exactly, an auditor the same figures suppressed (issue 25 §2).
@Suite struct ConsoleReportPeriodTests {
    @Test func thePeriodIsAMonthQuarterOrYearAndOnlyWhatLeavesTheOrganisationIsSuppressed() async throws {
        try await TestApp.run { app, client in
            let world = try await PrivacyReleaseTests.world(app, client)
            // Users of their own, who have used no one-time code yet.
            let auditor = try await ConsoleKit.login(client, try await app.user(.auditor, in: world.organisation))
            let page = try await ConsoleKit.get(client, "/reports?kind=cases&by=sex&period=2025-05", cookie: auditor.cookie)
            #expect(page.status == .ok, "\(page.text.prefix(400))")
            for group in ["Months", "Quarters", "Years"] { #expect(page.text.contains("<optgroup label=\"\(group)\">"), "\(group)") }
            #expect(page.text.contains("<option value=\"2025-05\" selected>"), "the month asked for is chosen")
            #expect(page.text.contains("<th scope=\"row\">Female</th><td>&lt;11</td>"), "three women in May, nationally")

            // A day, or two months, is no choice the form offers: refused beside the field, in Romanian.
            for period in ["2025-03-14", "2025-03..2025-04", "2025-Q9"] {
                let refused = try await ConsoleKit.get(client, "/reports?kind=cases&by=sex&period=\(period)", cookie: auditor.cookie + "; haven_lang=ro")
                #expect(refused.status == .unprocessableContent, "\(period)")
                #expect(refused.text.contains("<span class=\"field-error\" id=\"period-error\">Alegeți o lună, un trimestru sau un an din listă.</span>"),
                        "\(period): \(refused.text.prefix(600))")
                #expect(refused.text.contains("aria-invalid=\"true\" aria-describedby=\"period-error\""))
                #expect(!refused.text.contains("id=\"report-table\""), "no figures for a refused period")
            }
            let csv = try await ConsoleKit.get(client, "/reports.csv?kind=cases&by=sex&period=2025-03-14", cookie: auditor.cookie)
            #expect(csv.status == .unprocessableContent)

            let supervisor = try await ConsoleKit.login(client, try await app.user(.supervisor, in: world.organisation))
            let own = try await ConsoleKit.get(client, "/reports?kind=cases&by=sex&period=2025-05", cookie: supervisor.cookie)
            #expect(own.status == .ok, "\(own.text.prefix(400))")
            #expect(own.text.contains("<th scope=\"row\">Female</th><td>3</td>"), "the supervisor may open all three")
            #expect(own.text.contains("Exact counts"), "and is told these are exact")
            #expect(!own.text.contains("&lt;11"))
        }
    }
}
