import Foundation
import HavenCore
import HTTPTypes
import HummingbirdTesting
import Testing

/// The reports page's turnaround: bars for the median and p90 of each group of 11 or more, the
/// numbers in a table beside them, and no bar at all for a smaller group (S18).
@Suite struct ConsoleTurnaroundTests {
    @Test func theTurnaroundReportDrawsMedianAndP90AndNoBarForASmallGroup() async throws {
        try await TestApp.run { app, client in
            let world = try await PrivacyTurnaroundTests.world(app, client)
            // An auditor of their own: the world's auditor spent its one-time code logging in to the API.
            let browser = try await ConsoleKit.login(client, try await app.user(.auditor, in: world.auditor.organisation))
            let year = String(PrivacyKit.publishedYear)
            let page = try await ConsoleKit.get(client, "/reports?kind=turnaround&by=service_type&period=\(year)", cookie: browser.cookie)
            #expect(page.status == .ok, "\(page.text.prefix(500))")
            let text = page.text
            for chart in ["turnaround-answer-chart", "turnaround-completion-chart"] {
                #expect(text.contains("<svg id=\"\(chart)\" role=\"img\" aria-labelledby=\"\(chart)-title\""), "\(chart)")
                #expect(text.contains("<title id=\"\(chart)-title\">"), "\(chart) has a title")
            }
            #expect(text.contains("id=\"turnaround-table\""))
            // Twelve answers in 1…12 hours, eleven completions in 1…11 days.
            for value in ["6.5", "10.9", "6.0", "10.0"] {
                #expect(text.contains("data-group=\"safe_accommodation\" data-value=\"\(value)\""), "a bar for \(value)")
            }
            #expect(text.contains("<td>6.5</td><td>10.9</td><td>100%</td>"), "the table says what the bars draw, and the share answered in time")
            #expect(text.contains("Answered by the deadline"))
            // Five counselling referrals: "<11" in the table, no bar of any length.
            #expect(!text.contains("data-group=\"counselling\""), "a bar for five referrals reveals them")
            #expect(text.contains("<th scope=\"row\">Counselling</th><td>&lt;11</td><td>&lt;11</td><td>&lt;11</td>"), "the small group is <11")
            #expect(text.contains("kind=turnaround"), "the CSV link keeps the kind")

            let csv = try await ConsoleKit.get(client, "/reports.csv?kind=turnaround&by=service_type&period=\(year)", cookie: browser.cookie)
            #expect(csv.status == .ok)
            #expect(csv.headers[.contentType]?.hasPrefix("text/csv") == true)
            #expect(csv.text.contains("counselling,<11,<11,<11,<11,0,<11,<11"), "\(csv.text)")
            #expect(!csv.text.contains("1000"))

            // Grouped by priority the page labels the groups in words.
            let byPriority = try await ConsoleKit.get(client, "/reports?kind=turnaround&by=priority&period=\(year)", cookie: browser.cookie)
            #expect(byPriority.status == .ok)
            #expect(byPriority.text.contains("Urgent (72 h)"))
            let bad = try await ConsoleKit.get(client, "/reports?kind=turnaround&period=2026-Q", cookie: browser.cookie)
            #expect(bad.status == .unprocessableContent)
            #expect(bad.text.contains("id=\"period-error\""), "the refusal sits next to the period")
            // This year is not published yet: refused next to the period, which is kept.
            let running = try await ConsoleKit.get(client, "/reports?kind=turnaround&period=\(CaseKit.thisYear)", cookie: browser.cookie)
            #expect(running.status == .unprocessableContent, "\(running.text.prefix(300))")
            #expect(running.text.contains("id=\"period-error\""), "the refusal sits next to the period")
            #expect(!running.text.contains("turnaround-table"), "no figures")
            // The choices offered are published periods only.
            #expect(!page.text.contains("value=\"\(CaseKit.thisYear)\""), "this year is not offered")

            // In Romanian: its words, and a decimal comma in the table and beside the bars.
            let switched = try await ConsoleKit.post(client, "/language", ["csrf": browser.formToken, "language": "ro", "back": "/reports"],
                                                     cookie: browser.cookie)
            #expect(switched.status == .seeOther)
            // The switch answers with the language cookie a browser sends from then on.
            let romanian = try await ConsoleKit.get(client, "/reports?kind=turnaround&by=service_type&period=\(year)",
                                                    cookie: browser.cookie + "; haven_lang=ro")
            #expect(romanian.text.contains("Primul răspuns"))
            #expect(romanian.text.contains("<td>6,5</td><td>10,9</td>"), "a decimal comma")
            #expect(romanian.text.contains("mediana 6,5 h"), "the bar's words")
        }
    }
}
