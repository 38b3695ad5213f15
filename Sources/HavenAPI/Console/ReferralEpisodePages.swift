import Foundation
import HavenCore
import HavenServices
import HavenStore
import HTTPTypes
import Hummingbird

/// The referral page's episodes: the receiving organisation, while it works the referral, adds
/// an episode of its own, extends a stay and adds or corrects counselling sessions (each note
/// sealed at rest); the sender reads them when the referral shares `services`.
extension ConsoleController {
    func registerReferralEpisodePages(_ router: Router<HavenRequestContext>) {
        router.post("/referrals/:id/episodes") { request, context in
            await action(request, context) { visit, form in try await addReferralEpisode(try referralID(context), form, visit) }
        }
        router.post("/referrals/:id/episodes/:eid/extend") { request, context in
            await action(request, context) { visit, form in
                try await extendReferralStay(try referralID(context), try episodeID(context), form, visit)
            }
        }
        router.post("/referrals/:id/episodes/:eid/finish") { request, context in
            await action(request, context) { visit, form in
                try await finishReferralEpisode(try referralID(context), try episodeID(context), form, visit)
            }
        }
        router.post("/referrals/:id/episodes/:eid/sessions") { request, context in
            await action(request, context) { visit, form in
                try await saveReferralSession(try referralID(context), try episodeID(context), index: nil, form, visit)
            }
        }
        router.post("/referrals/:id/episodes/:eid/sessions/:index") { request, context in
            await action(request, context) { visit, form in
                guard let index = context.parameters.get("index").flatMap({ Int($0) }), index >= 0 else { throw StoreError.notFound("no such session") }
                return try await saveReferralSession(try referralID(context), try episodeID(context), index: index, form, visit)
            }
        }
    }

    func episodeID(_ context: HavenRequestContext) throws -> UUID {
        guard let id = context.parameters.get("eid").flatMap(UUID.init(text:)) else { throw StoreError.notFound("no such service") }
        return id
    }

    /// Which form a refusal came from, with what was typed and the messages for its fields.
    struct EpisodeForm {
        var target: String
        var form: ConsoleForm
        var errors: [String: String]
    }

    /// The episodes part of the referral page; empty when the viewer sees no episodes.
    func episodesModel(_ view: ReferralService.View, _ visit: ConsoleVisit, refused: EpisodeForm? = nil) async throws -> [String: Any] {
        let referral = view.referral
        let recording = view.side == .recipient && referral.status.isBeingWorked
        let reading = recording || (view.side == .sender && referral.sharedCategories.contains(.services))
        guard reading else { return [:] }
        let found = try await referrals.episodes(of: referral.id, context: visit.access)
        let language = visit.language
        let format = visit.format
        let today = CalendarDate.of(Date())
        func kept(_ target: String, _ field: String, _ value: String) -> String {
            refused?.target == target ? (refused?.form[field] ?? "") : value
        }
        func errors(_ target: String) -> [String: Any] {
            guard let refused, refused.target == target else { return [:] }
            return Dictionary(uniqueKeysWithValues: refused.errors.map { ("error_" + ConsoleController.fieldID($0.key), $0.value as Any) })
        }
        func modalities(_ chosen: String) -> [[String: Any]] {
            ServiceDetail.Modality.allCases.map { ["value": $0.rawValue, "label": catalogue.text(Self.modalityLabels[$0] ?? "error.invalid", language),
                                                   "selected": $0.rawValue == chosen] }
        }
        let rows: [[String: Any]] = found.episodes.map { episode in
            let id = episode.id.uuidString.lowercased()
            var row: [String: Any] = [
                "id": id, "type": catalogue.label("service_type", episode.type.rawValue, language),
                "status": catalogue.label("service_status", episode.status.rawValue, language), "status_code": episode.status.rawValue,
                "overdue": episode.isOverdue(today: today),
            ]
            row["start"] = episode.startOn.map(format.date)
            row["due"] = episode.dueOn.map(format.date)
            row["end"] = episode.endOn.map(format.date)
            row["outcome"] = episode.outcome
            if let stay = episode.detail.accommodation {
                row["planned_until"] = stay.plannedUntil.map(format.date)
                if let extensions = stay.extensions, !extensions.isEmpty { row["extensions"] = extensions.map(format.date).joined(separator: ", ") }
            }
            let open = recording && !episode.status.isFinished
            if open && episode.type == .safeAccommodation {
                var extend: [String: Any] = ["until": kept("extend:\(id)", "until", "")]
                extend.merge(errors("extend:\(id)")) { _, new in new }
                row["extend"] = extend
            }
            if open {
                // Finishing: an end date and an outcome, as the API's PATCH takes them.
                let target = "finish:\(id)"
                let chosen = kept(target, "status", ServiceStatus.completed.rawValue)
                var finish: [String: Any] = [
                    "end_on": kept(target, "end_on", today.description), "outcome": kept(target, "outcome", ""),
                    "statuses": [ServiceStatus.completed, .cancelled].map {
                        ["value": $0.rawValue, "label": catalogue.label("service_status", $0.rawValue, language), "selected": $0.rawValue == chosen]
                            as [String: Any]
                    },
                ]
                finish.merge(errors(target)) { _, new in new }
                row["finish"] = finish
            }
            if episode.type == .counselling {
                let sessions = episode.detail.counselling ?? []
                row["has_sessions"] = !sessions.isEmpty
                row["sessions"] = sessions.enumerated().map { index, session in
                    let target = "session:\(id):\(index)"
                    var entry: [String: Any] = [
                        "index": index, "number": index + 1, "date": format.date(session.date), "counsellor": session.counsellor,
                        "minutes": session.minutes, "modality": catalogue.text(Self.modalityLabels[session.modality] ?? "error.invalid", language),
                    ]
                    entry["note"] = session.note
                    if open {
                        var edit: [String: Any] = [
                            "date": kept(target, "date", session.date.description), "counsellor": kept(target, "counsellor", session.counsellor),
                            "minutes": kept(target, "minutes", String(session.minutes)),
                            "modalities": modalities(kept(target, "modality", session.modality.rawValue)),
                            "note": kept(target, "note", session.note ?? ""), "episode": id,
                        ]
                        edit.merge(errors(target)) { _, new in new }
                        entry["edit"] = edit
                    }
                    return entry
                }
                if open {
                    let target = "session:\(id)"
                    var add: [String: Any] = [
                        "date": kept(target, "date", today.description), "counsellor": kept(target, "counsellor", ""),
                        "minutes": kept(target, "minutes", ""), "modalities": modalities(kept(target, "modality", ServiceDetail.Modality.individual.rawValue)),
                        "note": kept(target, "note", ""), "idempotency_key": kept(target, "idempotency_key", UUID().uuidString.lowercased()),
                    ]
                    add.merge(errors(target)) { _, new in new }
                    row["add_session"] = add
                }
            }
            return row
        }
        var model: [String: Any] = ["has_episodes_section": true, "episodes": rows, "no_episodes": rows.isEmpty, "can_record": recording]
        if recording {
            let chosen = kept("new", "type", referral.serviceType.rawValue)
            var new: [String: Any] = [
                "types": ServiceType.allCases.map { ["value": $0.rawValue, "label": catalogue.label("service_type", $0.rawValue, language),
                                                     "selected": $0.rawValue == chosen] as [String: Any] },
                "start_on": kept("new", "start_on", today.description), "due_on": kept("new", "due_on", ""),
                "planned_until": kept("new", "planned_until", ""),
                "idempotency_key": kept("new", "idempotency_key", UUID().uuidString.lowercased()),
            ]
            new.merge(errors("new")) { _, new in new }
            model["new_episode"] = new
        }
        return model
    }

    /// A typed date, or a message for the field when it is not one.
    func formDate(_ form: ConsoleForm, _ field: String, required: Bool, into errors: inout [String: String], _ language: Language) -> CalendarDate? {
        guard let text = form.text(field) else {
            if required { errors[field] = catalogue.text("error.episode.date", language) }
            return nil
        }
        guard let date = CalendarDate(text) else {
            errors[field] = catalogue.text("error.episode.date", language)
            return nil
        }
        return date
    }

    /// The message for each field the episode and session forms hold.
    static let episodeMessages = [
        "until": "error.episode.until", "due_on": "error.episode.due_on", "planned_until": "error.episode.planned_until",
        "counsellor": "error.session.counsellor", "minutes": "error.session.minutes", "note": "error.session.note",
        "end_on": "error.episode.end_on", "outcome": "error.episode.outcome", "status": "error.episode.status",
    ]

    /// How a counselling modality is labelled.
    static let modalityLabels: [ServiceDetail.Modality: String] = [
        .individual: "modality.individual", .group: "modality.group", .family: "modality.family", .remote: "modality.remote",
    ]

    /// What went wrong with which field, in the user's language.
    func episodeErrors(_ failure: ValidationFailure, _ language: Language) -> [String: String] {
        var errors: [String: String] = [:]
        for error in failure.errors {
            let field = error.field.split(separator: ".").last.map(String.init) ?? error.field
            errors[field] = catalogue.text(Self.episodeMessages[field] ?? "error.invalid", language)
        }
        return errors
    }

    /// Runs a change; a refusal goes back to the referral page with the form as typed.
    func episodeChange(_ id: UUID, target: String, _ form: ConsoleForm, _ visit: ConsoleVisit, refusals: [String: String],
                       _ change: () async throws -> Void) async throws -> Response {
        let language = visit.language
        func refuse(_ errors: [String: String], _ status: HTTPResponse.Status) async throws -> Response {
            let messages = errors.map { FieldMessage(field: "\(target).\($0.key)", text: $0.value) }
            return try await referralPage(id, visit, messages: messages, status: status,
                                          refusedEpisode: EpisodeForm(target: target, form: form, errors: errors))
        }
        if !refusals.isEmpty { return try await refuse(refusals, .unprocessableContent) }
        do {
            try await change()
        } catch let failure as ValidationFailure {
            return try await refuse(episodeErrors(failure, language), .unprocessableContent)
        } catch StoreError.invalid(let failure) {
            return try await refuse(episodeErrors(failure, language), .unprocessableContent)
        } catch StoreError.preconditionFailed {
            return try await refuse(["date": catalogue.text("error.episode.stale", language)], .preconditionFailed)
        }
        return ConsoleRenderer.redirect("/referrals/\(id.uuidString.lowercased())#episodes")
    }

    func addReferralEpisode(_ id: UUID, _ form: ConsoleForm, _ visit: ConsoleVisit) async throws -> Response {
        var errors: [String: String] = [:]
        let language = visit.language
        let type = form.text("type").flatMap(ServiceType.init(rawValue:))
        if type == nil { errors["type"] = catalogue.text("error.service_type", language) }
        let start = formDate(form, "start_on", required: false, into: &errors, language)
        let due = formDate(form, "due_on", required: false, into: &errors, language)
        let until = formDate(form, "planned_until", required: false, into: &errors, language)
        return try await episodeChange(id, target: "new", form, visit, refusals: errors) {
            var detail: ServiceDetail?
            if type == .safeAccommodation, start != nil || until != nil {
                var stay = ServiceDetail.Accommodation()
                stay.from = start
                stay.plannedUntil = until
                detail = ServiceDetail(accommodation: stay)
            }
            let draft = ReferralEpisodeDraft(type: type, startOn: start, dueOn: due ?? (type == .safeAccommodation ? until : nil), detail: detail)
            let key = Idempotent.Request(key: form.text("idempotency_key"), scope: "console: episode of \(id)", body: Self.fingerprint(form))
            _ = try await referrals.addEpisode(to: id, draft, request: key, context: visit.access) { episode in
                Idempotent.Answer(body: [], location: "/referrals/\(id.uuidString.lowercased())#episodes", caseID: episode.caseID)
            }
        }
    }

    /// What a form sent, as the bytes a key's first request is recognised by.
    static func fingerprint(_ form: ConsoleForm) -> [UInt8] {
        Array(form.values.filter { $0.key != "csrf" && $0.key != "idempotency_key" }.sorted { $0.key < $1.key }
            .map { "\($0.key)=\($0.value)" }.joined(separator: "&").utf8)
    }

    /// Ends an episode with its end date, how it ended and its outcome; a refusal keeps the input.
    func finishReferralEpisode(_ id: UUID, _ episode: UUID, _ form: ConsoleForm, _ visit: ConsoleVisit) async throws -> Response {
        let language = visit.language
        var errors: [String: String] = [:]
        let end = formDate(form, "end_on", required: true, into: &errors, language)
        let status = form.text("status").flatMap(ServiceStatus.init(rawValue:)).flatMap { $0.isFinished ? $0 : nil }
        if status == nil { errors["status"] = catalogue.text("error.episode.status", language) }
        return try await episodeChange(id, target: "finish:\(episode.uuidString.lowercased())", form, visit, refusals: errors) {
            guard let end, let status else { return }
            let patch = ServicePatch(status: status, endOn: end, outcome: form.text("outcome"))
            _ = try await referrals.updateEpisode(episode, of: id, patch, expectedVersion: nil, context: visit.access)
        }
    }

    func extendReferralStay(_ id: UUID, _ episode: UUID, _ form: ConsoleForm, _ visit: ConsoleVisit) async throws -> Response {
        var errors: [String: String] = [:]
        let until = formDate(form, "until", required: true, into: &errors, visit.language)
        return try await episodeChange(id, target: "extend:\(episode.uuidString.lowercased())", form, visit, refusals: errors) {
            guard let until else { return }
            _ = try await referrals.extendStay(episode, of: id, StayExtension(until: until), expectedVersion: nil, context: visit.access)
        }
    }

    /// Adds a session (no index) or corrects the one at `index`; an empty note on a correction keeps the note.
    func saveReferralSession(_ id: UUID, _ episode: UUID, index: Int?, _ form: ConsoleForm, _ visit: ConsoleVisit) async throws -> Response {
        let language = visit.language
        var errors: [String: String] = [:]
        let date = formDate(form, "date", required: true, into: &errors, language)
        let minutes = form.text("minutes").flatMap { Int($0) }
        if minutes == nil { errors["minutes"] = catalogue.text("error.session.minutes", language) }
        let modality = form.text("modality").flatMap(ServiceDetail.Modality.init(rawValue:))
        if modality == nil { errors["modality"] = catalogue.text("error.invalid", language) }
        let counsellor = form.text("counsellor")
        if counsellor == nil { errors["counsellor"] = catalogue.text("error.session.counsellor", language) }
        let target = "session:\(episode.uuidString.lowercased())" + (index.map { ":\($0)" } ?? "")
        return try await episodeChange(id, target: target, form, visit, refusals: errors) {
            guard let date, let minutes, let modality, let counsellor else { return }
            if let index {
                let patch = SessionPatch(date: date, counsellor: counsellor, minutes: minutes, modality: modality, note: form.text("note"))
                _ = try await referrals.correctSession(index, of: episode, referral: id, patch, expectedVersion: nil, context: visit.access)
            } else {
                let session = ServiceDetail.CounsellingSession(date: date, counsellor: counsellor, minutes: minutes, modality: modality,
                                                               note: form.text("note"))
                let key = Idempotent.Request(key: form.text("idempotency_key"), scope: "console: session of \(episode)", body: Self.fingerprint(form))
                _ = try await referrals.addSession(session, to: episode, of: id, request: key, context: visit.access) { updated, _ in
                    Idempotent.Answer(body: [], location: "/referrals/\(id.uuidString.lowercased())#episodes", caseID: updated.caseID)
                }
            }
        }
    }
}
