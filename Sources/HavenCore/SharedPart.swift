import Foundation

/// What a referral's recipient sees of a case (S15): each consented category releases its
/// part and nothing else — names and documents under `identity`, contact details under
/// `contact`, the person's profile and exploitation or violence profile under `profile`, needs
/// and services under theirs, and every free-text note only under `notes`.
public struct SharedPart: Sendable, Equatable {
    public var reference: String
    public var caseType: CaseType?
    public var profile: PersonProfile?
    public var identity: PersonIdentity?
    public var trafficking: TraffickingProfile?
    public var violence: ViolenceProfile?
    public var needs: [Need]?
    public var services: [ServiceEpisode]?
    public var note: String?

    /// What building the part needs read: sealed values are opened only for a category that
    /// releases them, and needs and services only when shared.
    public struct Reading: Sendable, Equatable {
        public var opensCase: Bool
        /// The profile's free text (labour sector, violence location), sealed like the notes.
        public var opensProfile: Bool
        public var needs: Bool
        public var opensNeedNotes: Bool
        public var services: Bool
        public var opensServiceNotes: Bool
    }

    public static func reading(_ categories: Set<DataCategory>) -> Reading {
        Reading(opensCase: !categories.isDisjoint(with: [.identity, .contact, .notes]), opensProfile: categories.contains(.profile),
                needs: categories.contains(.needs),
                opensNeedNotes: categories.contains(.needs) && categories.contains(.notes), services: categories.contains(.services),
                opensServiceNotes: categories.contains(.services) && categories.contains(.notes))
    }

    /// The part of `file` (with its needs and services, when read) that `categories` release.
    public init(_ file: CaseFile, needs: [Need]?, services: [ServiceEpisode]?, categories: Set<DataCategory>) {
        let notes = categories.contains(.notes)
        reference = file.reference
        identity = file.identity?.released(categories)
        if categories.contains(.profile) {
            caseType = file.caseType
            profile = file.profile
            trafficking = file.trafficking
            violence = file.violence
        }
        if categories.contains(.needs) {
            self.needs = needs?.map { need in
                var need = need
                // Why a need ended is free text about the person, released like its note.
                if !notes { need.note = nil; need.reason = nil }
                return need
            } ?? []
        }
        if categories.contains(.services) {
            self.services = services?.map { episode in
                var episode = episode
                if !notes { episode.detail = episode.detail.withoutNotes }
                return episode
            } ?? []
        }
        if notes { note = file.note }
    }
}
