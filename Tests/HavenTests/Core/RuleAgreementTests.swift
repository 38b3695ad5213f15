import Foundation
import HavenCore
@testable import HavenStore
@testable import Postgres
import Testing

/// Rules that live both in HavenCore and in the schema (row security and the sweeps run inside
/// PostgreSQL, where Swift cannot), held equal: a change to either side alone fails here.
@Suite struct RuleAgreementTests {
    /// Every list of referral statuses in the schema's functions and partial indexes that
    /// names `on-hold` is the open statuses of `ReferralStatus`, and the column allows exactly
    /// its cases.
    @Test func theSchemaKnowsTheOpenReferralStatusesAsHavenCoreDoes() async throws {
        try await TestApp.run { app, _ in
            let open = Set(ReferralStatus.openStatuses.map(\.rawValue))
            let definitions = try CaseKit.ownerRows(app, """
                SELECT p.proname::text, pg_get_functiondef(p.oid) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
                WHERE n.nspname = 'public' AND p.prokind = 'f' AND p.proname LIKE 'haven\\_%'
                UNION ALL SELECT indexname::text, indexdef FROM pg_indexes WHERE schemaname = 'public'
                """)
            var checked = Set<String>()
            for row in definitions {
                let name = row[0] ?? "", text = row[1] ?? ""
                for list in Self.statusLists(in: text) where list.contains("on-hold") {
                    checked.insert(name)
                    #expect(list == open, "\(name) lists \(list.sorted()) as open; ReferralStatus.isOpen says \(open.sorted())")
                }
            }
            // Row security's "referred to me" and the lapsed-consent sweep, at least.
            #expect(checked.isSuperset(of: ["haven_case_referred_to_me", "haven_end_lapsed_referral"]), "lists found in \(checked.sorted())")
            let check = try CaseKit.ownerRows(app, """
                SELECT pg_get_constraintdef(oid) FROM pg_constraint
                WHERE conrelid = 'referral'::regclass AND contype = 'c' AND pg_get_constraintdef(oid) LIKE '%status%'
                """).compactMap { $0[0] }
            let allowed = check.flatMap(Self.quoted)
            #expect(Set(allowed) == Set(ReferralStatus.allCases.map(\.rawValue)), "referral.status allows \(allowed.sorted())")
        }
    }

    /// `haven_consent_state(consent, recipient)` answers what `Consent.status(for:at:)` answers,
    /// for a consent in each state, toward the recipient it was withdrawn for and another.
    @Test func theSchemaDecidesAConsentsStateAsHavenCoreDoes() async throws {
        try await TestApp.run { app, client in
            let sender = try await app.organisation(type: .ngo)
            let first = try await app.organisation(type: .shelter), second = try await app.organisation(type: .health)
            let caseworker = try await CaseKit.member(app, client, .caseworker, in: sender.id)
            let created = try await CaseKit.createCase(client, caseworker, CaseKit.intake(CaseKit.Person()))
            // Each change is made as the schema owner, as a sweep or a later version would leave the row.
            let changes = [
                "",
                "expires_at = now() - interval '1 minute'",
                "withdrawn_at = now()",
                "superseded_at = now()",
                "superseded_at = now(), expires_at = now() - interval '1 minute'",
                "withdrawn_at = now(), superseded_at = now()",
                "withdrawn_recipients = jsonb_build_array(jsonb_build_object('recipient_organisation', $2::text, 'withdrawn_at', 0))",
                "withdrawn_recipients = jsonb_build_array(jsonb_build_object('recipient_organisation', $2::text, 'withdrawn_at', 0)), "
                    + "expires_at = now() - interval '1 minute'",
                "expires_at = now() + interval '1 day'",
            ]
            var consents: [UUID] = []
            for change in changes {
                let id = try await CaseKit.create(client, caseworker.token, "/v1/cases/\(created.id.uuidString)/consents",
                                                  CaseKit.consent(to: [first.id, second.id], categories: ["profile"]))
                if !change.isEmpty {
                    _ = try CaseKit.ownerRows(app, "UPDATE consent SET \(change) WHERE id = $1 RETURNING id::text",
                                              change.contains("$2") ? [id, first.id.uuidString] : [id])
                }
                consents.append(id)
            }
            let now = Date()
            let loaded = try await app.store.transaction(.system) { transaction in
                try ConsentStore.list(caseID: created.id, keys: transaction.keys, on: transaction.connection)
            }
            var seen = Set<String>()
            for id in consents {
                let consent = try #require(loaded.first { $0.id == id })
                for recipient in [first.id, second.id] {
                    let inSQL = try CaseKit.ownerRows(app, "SELECT haven_consent_state(c, $2) FROM consent c WHERE c.id = $1", [id, recipient])[0][0]
                    let inSwift = consent.status(for: recipient, at: now).rawValue
                    #expect(inSQL == inSwift, "consent \(changes[consents.firstIndex(of: id) ?? 0]): SQL \(inSQL ?? "nil"), Swift \(inSwift)")
                    seen.insert(inSwift)
                }
            }
            #expect(seen == Set(ConsentStatus.allCases.map(\.rawValue)), "every state was tried: \(seen.sorted())")
        }
    }

    /// The days-to-date arithmetic of the driver (`PGTimestamp`, which cannot import HavenCore)
    /// and of `CalendarDate` agree on every day from year 1 to 9999.
    @Test func theDriverAndHavenCoreCountDaysAlike() {
        let first = -719_162, last = 2_932_896  // 0001-01-01 and 9999-12-31, in days since 1970-01-01
        var disagreements: [Int] = []
        for days in first...last {
            let (year, month, day) = PGTimestamp.civil(fromDays: Int64(days))
            guard let date = CalendarDate(daysSince1970: days),
                  date.year == Int(year), date.month == Int(month), date.day == Int(day) else {
                disagreements.append(days)
                if disagreements.count > 5 { break }
                continue
            }
        }
        #expect(disagreements.isEmpty, "days since 1970 that the two count differently: \(disagreements)")
        #expect(CalendarDate(daysSince1970: first - 1) == nil && CalendarDate(daysSince1970: last + 1) == nil)
    }

    /// The quoted words of every `status IN (...)`, `status NOT IN (...)` and, as PostgreSQL
    /// spells an index's predicate, `status = ANY (ARRAY[...])` in `text`.
    static func statusLists(in text: String) -> [Set<String>] {
        let openings = [("status IN (", ")"), ("status NOT IN (", ")"), ("status = ANY (ARRAY[", "]")]
        var lists: [Set<String>] = []
        var rest = Substring(text)
        while let (found, closer) = openings.compactMap({ opening, closer in rest.range(of: opening).map { ($0, closer) } })
            .min(by: { $0.0.lowerBound < $1.0.lowerBound }) {
            let tail = rest[found.upperBound...]
            guard let close = tail.range(of: closer) else { break }
            lists.append(Set(quoted(String(tail[..<close.lowerBound]))))
            rest = tail[close.upperBound...]
        }
        return lists
    }

    static func quoted(_ text: String) -> [String] {
        text.split(separator: "'", omittingEmptySubsequences: false).enumerated().filter { $0.offset % 2 == 1 }.map { String($0.element) }
    }
}
