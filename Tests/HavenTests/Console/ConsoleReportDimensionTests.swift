import Foundation
import HavenCore
import HTTPTypes
import HummingbirdTesting
import Testing

/// The reports page breaks a report down by up to three dimensions: a second one makes a table
/// of rows by columns with both margins, a third one a table for each of its values and one for
/// all of them, each cell as published; the choices, captions and labels in the reader's language.
@Suite struct ConsoleReportDimensionTests {
    @Test func upToThreeDimensionsAsTablesWithMarginsInTheReadersLanguage() async throws {
        try await TestApp.run { app, client in
            let world = try await PrivacyReportDimensionTests.world(app, client)
            let year = PrivacyReportDimensionTests.year
            let supervisor = try await ConsoleKit.login(client, try await app.user(.supervisor, in: world.orgA.id))
            let form = try await ConsoleKit.get(client, "/reports?kind=cases&period=\(year)", cookie: supervisor.cookie)
            #expect(form.status == .ok, "\(form.text.prefix(400))")
            for field in ["by2", "by3"] { #expect(form.text.contains("<select id=\"\(field)\" name=\"\(field)\"><option value=\"\" selected>(none)</option>"), "\(field)") }
            for dimension in ["quarter", "region", "organisation_type"] { #expect(form.text.contains("<option value=\"\(dimension)\""), "\(dimension) offered") }

            // Two: case types by sex, with each row's total and each column's.
            let two = try await ConsoleKit.get(client, "/reports?kind=cases&by=case_type&by2=sex&period=\(year)", cookie: supervisor.cookie)
            #expect(two.status == .ok)
            #expect(two.text.contains("<thead><tr><th scope=\"col\">Type of case</th><th scope=\"col\">Female</th><th scope=\"col\">Male</th><th scope=\"col\">Total</th></tr></thead>"),
                    "\(two.text)")
            #expect(two.text.contains("<tr><th scope=\"row\">Trafficking</th><td>12</td><td>2</td><td>14</td></tr>"), "\(two.text)")
            #expect(two.text.contains("<tr><th scope=\"row\">Total</th><td>27</td><td>2</td><td>29</td></tr>"), "\(two.text)")
            #expect(two.text.contains("<option value=\"sex\" selected>"))

            // Three: a table for each quarter, then one for all of them; the CSV link keeps all three.
            let three = try await ConsoleKit.get(client, "/reports?kind=cases&by=case_type&by2=sex&by3=quarter&period=\(year)", cookie: supervisor.cookie)
            #expect(three.status == .ok)
            #expect(three.text.contains("<caption>Quarter: \(year)-Q2</caption>"), "\(three.text)")
            #expect(three.text.contains("<caption>Quarter: \(year)-Q4</caption>"))
            #expect(three.text.contains("<caption>Quarter: all</caption>"))
            for id in ["report-table", "report-table-2", "report-table-3"] { #expect(three.text.contains("<table id=\"\(id)\">"), "\(id)") }
            #expect(three.text.contains("<tr><th scope=\"row\">Trafficking and domestic violence</th><td>0</td><td>0</td><td>0</td></tr>"), "no case of both kinds in the second quarter")
            #expect(three.text.contains("by2=sex") && three.text.contains("by3=quarter"), "the CSV link names all three")
            let csv = try await ConsoleKit.get(client, "/reports.csv?kind=cases&by=case_type&by2=sex&by3=quarter&period=\(year)", cookie: supervisor.cookie)
            #expect(csv.status == .ok)
            #expect(csv.text.hasPrefix("case_type,sex,quarter,count"), "\(csv.text.prefix(200))")

            // Nationally, in Romanian: the small cells are <11 and the words are Romanian.
            let auditor = try await ConsoleKit.login(client, try await app.user(.auditor, in: world.orgB.id))
            let national = try await ConsoleKit.get(client, "/reports?kind=cases&by=organisation_type&by2=case_type&by3=quarter&period=\(year)",
                                                    cookie: auditor.cookie + "; haven_lang=ro")
            #expect(national.status == .ok)
            #expect(national.text.contains("<caption>Trimestru: toate</caption>"), "\(national.text)")
            #expect(national.text.contains("<label for=\"by2\">Apoi după</label>"))
            #expect(national.text.contains("&lt;11"))
            for count in 1..<11 { #expect(!national.text.contains("<td>\(count)</td>"), "a count of \(count) in clear") }
            for count in 1..<11 { #expect(!national.text.contains("data-count=\"\(count)\""), "a bar of \(count)") }
        }
    }
}
