import Foundation
import HavenCore
import HavenServices
import HavenStore
import HTTPTypes
import Hummingbird

/// The case page: summary, needs, services, consents, referrals and history, with the forms a
/// case's state allows.
extension ConsoleController {
    /// Everything a caseworker needs on one page, read in one transaction and audited as one
    /// `case.read` naming the parts shown.
    func casePage(_ id: UUID, _ visit: ConsoleVisit, messages: [FieldMessage] = [], status: HTTPResponse.Status = .ok,
                  closingNeed: (id: UUID, form: ConsoleForm)? = nil) async throws -> Response {
        let folder = try await cases.folder(id, historyLimit: 100, context: visit.access)
        let (file, needs, services, consents, caseReferrals, history, names) =
            (folder.file, folder.needs, folder.services, folder.consents, folder.referrals, folder.history, folder.names)
        let format = visit.format
        let language = visit.language
        var summary: [String: Any] = [
            "reference": file.reference, "case_type": catalogue.label("case_type", file.caseType.rawValue, language),
            "status": catalogue.label("case_status", file.status.rawValue, language), "status_code": file.status.rawValue,
            "risk": catalogue.label("risk", file.riskLevel.rawValue, language), "risk_code": file.riskLevel.rawValue,
            "identification": catalogue.label("identification", file.identificationStatus.rawValue, language),
            "identified_by": catalogue.label("identified_by", file.identifiedBy.rawValue, language),
            "identified_on": format.date(file.identifiedOn),
            "sex": catalogue.label("sex", file.profile.sex.rawValue, language),
            "assignee": names.user(file.assignee) ?? catalogue.text("case.unassigned", language),
            "updated": format.dateTime(file.updatedAt),
        ]
        if let year = file.profile.birthYear { summary["birth_year"] = String(year) }
        if let citizenship = file.profile.citizenship { summary["citizenship"] = citizenship }
        if let identity = file.identity {
            let name = [identity.givenName, identity.familyName].compactMap { $0 }.joined(separator: " ")
            if !name.isEmpty { summary["name"] = name }
        }
        if file.closureRequestedAt != nil && file.status == .open { summary["closure_requested"] = true }
        let facts = profileFacts(file, visit)
        summary["profile"] = facts
        summary["has_profile"] = !facts.isEmpty
        summary["id"] = id.uuidString.lowercased()
        summary["open"] = file.status == .open
        summary["version"] = String(file.version)
        var model: [String: Any] = [
            "case": summary,
            "needs": needRows(needs, closable: file.status == .open && folder.emergencyUntil == nil, messages: messages, closing: closingNeed, visit),
            "services": services.map { episode in
                ["type": catalogue.label("service_type", episode.type.rawValue, language),
                 "provider": episode.providerOrganisation.flatMap { names.organisations[$0] } ?? "",
                 "status": catalogue.label("service_status", episode.status.rawValue, language),
                 "due": episode.dueOn.map(format.date) ?? ""] as [String: Any]
            },
            "consents": consents.map { consent in
                let changeable = file.status == .open && folder.emergencyUntil == nil && consent.status(at: Date()) == .active
                // One withdrawal button per recipient, on its first provision.
                var offered = Set<UUID>()
                return ["id": consent.id.uuidString.lowercased(), "withdrawable": changeable,
                 "granted": format.dateTime(consent.grantedAt), "expires": consent.expiresAt.map(format.dateTime) ?? "",
                 "status": catalogue.label("consent_status", consent.status(at: Date()).rawValue, language),
                 "grantor": catalogue.label("grantor", consent.grantor.rawValue, language),
                 "has_supersedes": consent.supersedes != nil,
                 "recipients": consent.provisions.map { provision in
                     let recipient = provision.recipientOrganisation
                     return ["organisation": names.organisations[recipient] ?? "",
                             "recipient_id": recipient.uuidString.lowercased(),
                             "withdrawn_for": consent.isWithdrawn(for: recipient),
                             "withdrawable_for": changeable && !consent.isWithdrawn(for: recipient) && offered.insert(recipient).inserted
                                 && consent.recipients.count > 1,
                             "categories": provision.categories.map { catalogue.label("category", $0.rawValue, language) }.joined(separator: ", ")]
                         as [String: Any]
                 }] as [String: Any]
            },
            "referrals": caseReferrals.map { referralRow($0, names: names, visit) },
            "history": history.items.map { record in
                ["at": format.dateTime(record.recorded), "who": names.user(record.actorUser) ?? catalogue.text("history.haven", language),
                 "what": catalogue.label("event", record.subtype, language)] as [String: Any]
            },
        ]
        let can = Capabilities(visit.actor)
        if file.status == .open {
            model["closes_directly"] = can.closesCasesDirectly
            model["approvable"] = can.closesCasesDirectly && file.closureRequestedAt != nil
            model["requestable"] = !can.closesCasesDirectly && file.closureRequestedAt == nil
            model["closure_reasons"] = options("closure_reason", ClosureReason.allCases.map(\.rawValue), selected: nil, visit)
        }
        model.merge(caseActionsModel(folder, visit)) { _, new in new }
        model.merge(ConsoleController.errorModel(messages)) { _, new in new }
        model["title_detail"] = file.reference
        if can.readAuditTrail { model["audit_link"] = "/audit?case_id=\(id.uuidString.lowercased())" }
        return render("case", visit, title: "case.title", model, status: status)
    }

    /// The standards' core of the trafficking and violence profiles, each recorded value with its
    /// label; the days to the first service as Haven derives them.
    func profileFacts(_ file: CaseFile, _ visit: ConsoleVisit) -> [[String: Any]] {
        let language = visit.language
        var facts: [[String: Any]] = []
        let add = { (key: String, value: String?) in
            guard let value, !value.isEmpty else { return }
            facts.append(["label": catalogue.text(key, language), "value": value, "id": "profile-" + key.replacingOccurrences(of: ".", with: "-")])
        }
        if let trafficking = file.trafficking {
            add("intake.recruitment_type", trafficking.recruitmentType.map { catalogue.label("recruitment", $0.rawValue, language) })
            add("intake.transit_countries", trafficking.transitCountries?.joined(separator: ", "))
            add("intake.other_countries", trafficking.otherCountriesOfExploitation?.joined(separator: ", "))
            add("intake.years", trafficking.yearsOfExploitation?.map(String.init).joined(separator: ", "))
            add("intake.as_child", trafficking.traffickedAsChild.map { catalogue.label("answer", String($0), language) })
        }
        if let violence = file.violence {
            add("intake.incident_date", violence.incidentDate.map(visit.format.date))
            add("intake.reported_on", violence.reportedOn.map(visit.format.date))
            add("intake.perpetrator_count", violence.perpetratorCount.map(String.init))
            add("intake.perpetrator_sex", violence.perpetratorSex.map { catalogue.label("perpetrator_sex", $0.rawValue, language) })
            add("intake.perpetrator_age_group", violence.perpetratorAgeGroup.map { catalogue.label("perpetrator_age", $0.rawValue, language) })
            add("case.days_to_first_service", violence.daysToFirstService.map(String.init))
        }
        return facts
    }
}
