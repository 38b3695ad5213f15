import Foundation
import HavenCore
import HavenServices
import HavenStore
import HTTPTypes
import Hummingbird

/// Amending a consent from the case page: the form starts from the version it amends, one
/// fieldset per recipient (and one to add a recipient); what is sent is the new version whole,
/// through the same service as the API's `POST /v1/cases/{id}/consents/{cid}/versions`.
extension ConsoleController {
    func amendConsentPage(_ id: UUID, _ consentID: UUID, _ visit: ConsoleVisit, form: ConsoleForm? = nil, messages: [FieldMessage] = [],
                          status: HTTPResponse.Status = .ok) async throws -> Response {
        let consent = try await cases.consent(consentID, of: id, context: visit.access)
        let form = form ?? Self.amendmentForm(consent)
        var model = ConsoleController.errorModel(messages)
        let errors = Dictionary(messages.map { ($0.field, $0.text) }, uniquingKeysWith: { first, _ in first })
        model["case"] = try await caseHeader(id, visit)
        model["consent_id"] = consentID.uuidString.lowercased()
        model["grantors"] = options("grantor", ConsentGrantor.allCases.map(\.rawValue), selected: form["grantor"], visit)
        model["methods"] = options("method", ConsentMethod.allCases.map(\.rawValue), selected: form["method"], visit)
        let organisations = try await directory.organisations().filter { $0.id != visit.actor.organisationID }
        let names = Dictionary(organisations.map { ($0.id.uuidString.lowercased(), $0.name) }, uniquingKeysWith: { first, _ in first })
        let count = Self.provisionCount(form)
        model["provision_count"] = count
        model["provisions"] = (0...count).map { index -> [String: Any] in
            // The last fieldset adds a recipient; the others keep the ones the consent names.
            let recipient = form["recipient_\(index)"] ?? ""
            var row: [String: Any] = [
                "index": index, "recipient": recipient, "has_recipient": index < count,
                "organisation": index < count ? names[recipient] ?? "" : catalogue.text("consent.amend_new_recipient", visit.language),
                "categories": checkboxes("category", DataCategory.allCases.map(\.rawValue), ticked: form.all("categories_\(index)"), visit)
                    .map { box in box.merging(["id": "category-\(index)-\(box["value"] as? String ?? "")"]) { _, new in new } },
                "purpose": form["purpose_\(index)"] ?? "",
                "recipients": organisations.map { ["value": $0.id.uuidString.lowercased(), "label": $0.name,
                                                   "selected": recipient == $0.id.uuidString.lowercased()] as [String: Any] },
            ]
            for name in ["recipient", "categories", "purpose"] {
                if let text = errors["\(name)_\(index)"] { row["error_" + name] = text }
            }
            return row
        }
        model["expires_on"] = form["expires_on"] ?? ""
        model["statistics"] = form["statistics"] != nil
        model["capacity_assessed"] = form["capacity_assessed"] != nil
        model["idempotency_key"] = form["idempotency_key"] ?? UUID().uuidString.lowercased()
        return render("consent-amend", visit, title: "consent.amend_title", model, status: status)
    }

    /// The version being amended, as the form's fields.
    static func amendmentForm(_ consent: Consent) -> ConsoleForm {
        var form = ConsoleForm(["grantor": consent.grantor.rawValue, "method": consent.method.rawValue,
                                "provision_count": String(consent.provisions.count)])
        if consent.statistics { form.set("statistics", ["yes"]) }
        if let expires = consent.expiresAt { form.set("expires_on", [CalendarDate.of(expires).description]) }
        for (index, provision) in consent.provisions.enumerated() {
            form.set("recipient_\(index)", [provision.recipientOrganisation.uuidString.lowercased()])
            form.set("purpose_\(index)", [provision.purpose])
            form.set("categories_\(index)", provision.categories.map(\.rawValue))
        }
        return form
    }

    static func provisionCount(_ form: ConsoleForm) -> Int {
        min(max(Int(form["provision_count"] ?? "") ?? 0, 0), 50)
    }

    func amendConsent(_ id: UUID, _ consentID: UUID, _ form: ConsoleForm, _ visit: ConsoleVisit) async throws -> Response {
        var body: [String: Any] = ["statistics": form["statistics"] != nil]
        if form["capacity_assessed"] != nil { body["capacity_assessed"] = true }
        for name in ["grantor", "method"] { body[name] = form.text(name) }
        // Each fieldset is a provision; a recipient whose boxes are all cleared is left out (the
        // new version no longer names it), as is an empty "add a recipient" fieldset.
        var provisions: [[String: Any]] = []
        var rows: [Int] = []
        for index in 0...Self.provisionCount(form) {
            let categories = form.all("categories_\(index)")
            guard let recipient = form.text("recipient_\(index)"), !categories.isEmpty || form.text("purpose_\(index)") != nil else { continue }
            var provision: [String: Any] = ["recipient_organisation": recipient, "categories": categories]
            provision["purpose"] = form.text("purpose_\(index)")
            provisions.append(provision)
            rows.append(index)
        }
        body["provisions"] = provisions
        if let day = form.text("expires_on") { body["expires_at"] = day + "T23:59:59Z" }
        let bytes = try JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])
        do {
            let draft = try decode(ConsentDraft.self, from: body)
            let key = Idempotent.Request(key: form["idempotency_key"], scope: "console: consent \(consentID) of \(id)", body: Array(bytes))
            let outcome = try await cases.amendConsent(consentID, of: id, draft, request: key, context: visit.access) { _, _, _ in
                Idempotent.Answer(body: [], location: "/cases/\(id.uuidString.lowercased())#consents", caseID: id)
            }
            return created(outcome, fallback: "/cases/\(id.uuidString.lowercased())")
        } catch {
            let failure: ValidationFailure
            switch error {
            case let found as ValidationFailure: failure = found
            case StoreError.invalid(let found): failure = found
            case StoreError.conflict:
                failure = ValidationFailure("provisions", "conflict")
            default: throw error
            }
            // `provisions[2].purpose` is the purpose of the fieldset that sent the third provision.
            let rename = { (field: String) -> String in
                for (position, index) in rows.enumerated() {
                    let prefix = "provisions[\(position)]."
                    if field.hasPrefix(prefix) {
                        let member = String(field.dropFirst(prefix.count)).replacingOccurrences(of: "recipient_organisation", with: "recipient")
                        return (member.split(separator: "[").first.map(String.init) ?? member) + "_\(index)"
                    }
                }
                return field.replacingOccurrences(of: "expires_at", with: "expires_on")
            }
            var messages = self.messages(for: failure, visit.language)
            messages = zip(failure.errors, messages).map { error, message in
                let field = rename(error.field)
                let generic = field.range(of: #"_[0-9]+$"#, options: .regularExpression).map { String(field[..<$0.lowerBound]) } ?? field
                let text = catalogue.messages[visit.language]?["error.\(generic)"] ?? catalogue.messages[.en]?["error.\(generic)"] ?? message.text
                return FieldMessage(field: field, text: error.reason == "conflict" ? catalogue.text("error.consent_amended", visit.language) : text)
            }
            return try await amendConsentPage(id, consentID, visit, form: form, messages: messages, status: .unprocessableContent)
        }
    }
}

extension ConsoleForm {
    /// Sets a field as if it had been posted with `items` (one per ticked box).
    mutating func set(_ name: String, _ items: [String]) {
        values[name] = items.first
        lists[name] = items
    }
}
