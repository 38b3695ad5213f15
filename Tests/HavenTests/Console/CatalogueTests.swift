import Foundation
import HavenCore
import HavenStore
import Testing

/// The console's words: every language has every key, and every key is used somewhere.
@Suite struct CatalogueTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let console = root.appendingPathComponent("Sources/HavenAPI/Resources/Console")

    static func catalogue(_ language: Language) throws -> [String: String] {
        let data = try Data(contentsOf: console.appendingPathComponent("messages/\(language.rawValue).json"))
        return try JSONDecoder().decode([String: String].self, from: data)
    }

    /// Keys built from a code at run time (`referral_status.` + the status), with the codes they may end in.
    static let coded: [String: [String]] = [
        "role": Role.allCases.map(\.rawValue), "case_type": CaseType.allCases.map(\.rawValue), "case_status": CaseStatus.allCases.map(\.rawValue),
        "risk": RiskLevel.allCases.map(\.rawValue), "identification": IdentificationStatus.allCases.map(\.rawValue),
        "identified_by": IdentifiedBy.allCases.map(\.rawValue), "sex": Sex.allCases.map(\.rawValue),
        "service_type": ServiceType.allCases.map(\.rawValue), "domain": SecurityDomain.allCases.map(\.rawValue),
        "priority": NeedPriority.allCases.map(\.rawValue), "need_status": NeedStatus.allCases.map(\.rawValue),
        "need_outcome": NeedOutcome.allCases.map(\.rawValue),
        "service_status": ServiceStatus.allCases.map(\.rawValue), "consent_status": ConsentStatus.allCases.map(\.rawValue),
        "grantor": ConsentGrantor.allCases.map(\.rawValue), "category": DataCategory.allCases.map(\.rawValue),
        "referral_status": ReferralStatus.allCases.map(\.rawValue), "language": Language.allCases.map(\.rawValue),
        "reason": RejectionReason.allCases.map(\.rawValue) + ["consent-withdrawn", "consent-expired"] + ClosureCancellation.allCases.map(\.rawValue),
        "closure_reason": ClosureReason.allCases.map(\.rawValue), "closure_decline": ClosureDeclineReason.allCases.map(\.rawValue), "exploitation": ExploitationType.allCases.map(\.rawValue) + ["none"],
        "control": MeansOfControl.allCases.map(\.rawValue), "violence": ViolenceType.allCases.map(\.rawValue),
        "method": ConsentMethod.allCases.map(\.rawValue), "outcome": AuditEvent.Outcome.allCases.map(\.rawValue),
        "problem": ["changed", "deleted", "inserted", "reordered", "wrong-key"], "report_kind": ["cases", "referrals", "turnaround"],
        "dimension": CaseDimension.allCases.map(\.rawValue) + ReferralDimension.allCases.map(\.rawValue) + TurnaroundDimension.allCases.map(\.rawValue),
        "organisation_type": OrganisationType.allCases.map(\.rawValue), "population": Population.allCases.map(\.rawValue),
        "recruitment": RecruitmentType.allCases.map(\.rawValue), "perpetrator_sex": PerpetratorSex.allCases.map(\.rawValue),
        "perpetrator_age": PerpetratorAgeGroup.allCases.map(\.rawValue), "answer": ["true", "false"],
    ]

    @Test func everyLanguageHasEveryKeyAndNoOther() throws {
        let english = Set(try Self.catalogue(.en).keys)
        for language in Language.allCases where language != .en {
            let keys = Set(try Self.catalogue(language).keys)
            #expect(english.subtracting(keys).isEmpty, "\(language.rawValue) lacks \(english.subtracting(keys).sorted())")
            #expect(keys.subtracting(english).isEmpty, "\(language.rawValue) has keys English has not: \(keys.subtracting(english).sorted())")
            for (key, text) in try Self.catalogue(language) { #expect(!text.isEmpty, "\(language.rawValue) \(key) is empty") }
        }
    }

    @Test func everyKeyIsUsedAndEveryUsedKeyExists() throws {
        let english = try Self.catalogue(.en)
        var text = ""
        let templates = Self.console.appendingPathComponent("templates")
        for name in try FileManager.default.contentsOfDirectory(atPath: templates.path) {
            text += try String(contentsOf: templates.appendingPathComponent(name), encoding: .utf8)
        }
        let sources = Self.root.appendingPathComponent("Sources/HavenAPI/Console")
        var swift = ""
        for name in try FileManager.default.contentsOfDirectory(atPath: sources.path) {
            swift += try String(contentsOf: sources.appendingPathComponent(name), encoding: .utf8)
        }
        for key in english.keys.sorted() {
            let prefix = String(key.prefix { $0 != "." })
            let code = String(key.dropFirst(prefix.count + 1))
            if let codes = Self.coded[prefix] {
                #expect(codes.contains(code), "\(key): \(code) is not a \(prefix) code")
                #expect(swift.contains("\"\(prefix)\""), "\(key): nothing labels \(prefix) codes")
            } else if prefix == "event" {
                #expect(code.contains("."), "\(key) is not an audit subtype")
            } else if key.hasSuffix("_title") && prefix == "console" {
                #expect(swift.contains("\"\(key.dropLast("_title".count))\"") || swift.contains("\"\(key)\""), "\(key) is unused")
            } else if prefix == "error" && text.contains("name=\"\(code)\"") {
                // A message for a form field, looked up by the field's name when a service refuses its value.
                continue
            } else {
                #expect(text.contains("t.\(key)}}") || swift.contains("\"\(key)\""), "\(key) is unused")
            }
        }
        // And the other way: a template naming a key English does not have shows nothing.
        let pattern = try NSRegularExpression(pattern: #"\{\{[#^/]?t\.([a-z_.]+)\}\}"#)
        for match in pattern.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
            guard let range = Range(match.range(at: 1), in: text) else { continue }
            #expect(english[String(text[range])] != nil, "templates use \(text[range]), which the catalogue lacks")
        }
    }
}
