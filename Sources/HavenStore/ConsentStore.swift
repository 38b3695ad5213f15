import Foundation
import HavenCore
import Postgres
import Sealing

public enum ConsentStore {
    static let columns = "id, case_id, grantor, method, granted_at, expires_at, withdrawn_at, statistics, provisions::text, version"
    /// With the sealed purposes, for reading a consent whole.
    static let sealedColumns = columns + ", purposes_sealed"
    /// With who assessed a young person's capacity, read by `decode(_:keys:assessed:)`.
    static let wholeColumns = sealedColumns + ", capacity_assessed_by, supersedes, superseded_at, withdrawn_recipients::text, "
        + "(SELECT later.id FROM consent later WHERE later.supersedes = consent.id) AS superseded_by"

    /// The provisions' purposes are free text, sealed together apart from the provisions (whose
    /// recipients and categories stay readable, each with an empty purpose).
    static func purposesLabel(_ id: UUID) -> String { FieldSealing.label("consent:", id, ":purposes") }

    /// The provisions as stored: without their purposes.
    static func provisionsJSON(_ provisions: [Consent.Provision]) throws -> PGJSON {
        let blank = provisions.map { Consent.Provision(recipientOrganisation: $0.recipientOrganisation, purpose: "", categories: $0.categories) }
        return PGJSON(text: String(decoding: try FieldSealing.encoder.encode(blank), as: UTF8.self))
    }

    /// Opens the purposes when given `keys` (and the row has `sealedColumns`); reads the assessor
    /// when `assessed` (and the row has `wholeColumns`).
    static func decode(_ row: PGRow, keys: KeyRing? = nil, assessed: Bool = false) throws -> Consent {
        let id: UUID = try row.decode(at: 0)
        var provisions = (try? FieldSealing.decoder.decode([Consent.Provision].self, from: Data((try row.decode(String.self, at: 8)).utf8))) ?? []
        // A consent recorded before purposes were sealed keeps its clear ones until start-up seals them.
        if let keys, let purposes = try FieldSealing.open(try row.decode([UInt8]?.self, at: 10), as: [String].self, purposesLabel(id), keys: keys) {
            for index in provisions.indices where index < purposes.count { provisions[index].purpose = purposes[index] }
        }
        var consent = Consent(
            id: try row.decode(at: 0), caseID: try row.decode(at: 1),
            grantor: try row.code(ConsentGrantor.self, at: 2), method: try row.code(ConsentMethod.self, at: 3),
            grantedAt: try row.decode(at: 4), expiresAt: try row.decode(at: 5), withdrawnAt: try row.decode(at: 6),
            statistics: try row.decode(at: 7), provisions: provisions, version: try row.decode(at: 9),
            capacityAssessedBy: try assessed ? row.decode(UUID?.self, at: 11) : nil)
        if assessed {
            consent.supersedes = try row.decode(UUID?.self, at: 12)
            consent.supersededAt = try row.decode(Date?.self, at: 13)
            consent.withdrawnRecipients = try FieldSealing.decoder.decode([Consent.RecipientWithdrawal].self,
                                                                          from: Data((try row.decode(String.self, at: 14)).utf8))
            consent.supersededBy = try row.decode(UUID?.self, at: 15)
        }
        return consent
    }

    /// `capacityAssessedBy`: the supervisor who assessed a young person's capacity to consent alone.
    /// `supersedes`: the version this one amends.
    public static func create(caseID: UUID, _ draft: ConsentDraft, actor: Actor, capacityAssessedBy: UUID? = nil, supersedes: UUID? = nil,
                              now: Date, keys: KeyRing, on connection: PGConnection) throws -> Consent {
        let id = UUID()
        let result = try connection.query("""
            INSERT INTO consent (id, case_id, grantor, method, granted_at, expires_at, statistics, provisions, purposes_sealed, created_by,
                                 capacity_assessed_by, supersedes)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9, $10, $11, $12) RETURNING
            """ + " " + wholeColumns, [
                id, caseID, draft.grantor.rawValue, draft.method.rawValue, draft.grantedAt ?? now, draft.expiresAt,
                draft.statistics ?? false, try provisionsJSON(draft.provisions),
                try FieldSealing.seal(draft.provisions.map(\.purpose), purposesLabel(id), keys: keys), actor.userID, capacityAssessedBy,
                supersedes,
            ])
        if draft.statistics == true { try StatisticsConsent.refresh(caseID: caseID, on: connection) }
        return try decode(result[0], keys: keys, assessed: true)
    }

    public static func list(caseID: UUID, keys: KeyRing, on connection: PGConnection) throws -> [Consent] {
        try connection.query("SELECT " + wholeColumns + " FROM consent WHERE case_id = $1 ORDER BY granted_at, id", [caseID]).rows.map {
            try decode($0, keys: keys, assessed: true)
        }
    }

    /// One consent of a case. `forUpdate` locks it for a change of its own (a withdrawal, an
    /// amendment); `forShare` for a record that relies on it (a referral): any number of those
    /// go on side by side, and a change waits for them all to commit, or went first and is seen.
    public static func find(_ id: UUID, caseID: UUID, keys: KeyRing, forUpdate: Bool = false, forShare: Bool = false,
                            on connection: PGConnection) throws -> Consent? {
        let sql = "SELECT " + wholeColumns + " FROM consent WHERE id = $1 AND case_id = $2" + (forUpdate ? " FOR UPDATE" : forShare ? " FOR SHARE" : "")
        return try connection.query(sql, [id, caseID]).first.map { try decode($0, keys: keys, assessed: true) }
    }

    /// Withdraws the consent and, in the same transaction, cancels every open referral relying
    /// on it (S16). Returns the ids of the cancelled referrals.
    public static func withdraw(_ consent: Consent, actor: Actor, keys: KeyRing, on connection: PGConnection) throws -> (Consent, [UUID]) {
        let result = try connection.query(
            "UPDATE consent SET withdrawn_at = now(), version = version + 1 WHERE id = $1 AND withdrawn_at IS NULL RETURNING " + wholeColumns,
            [consent.id])
        guard let row = result.first else { throw StoreError.conflict("the consent is already withdrawn", field: nil) }
        let cancelled = try ReferralStore.cancelOpen(.relyingOn(consent: consent.id), reason: .consentWithdrawn, actor: actor, on: connection)
        try StatisticsConsent.refresh(caseID: consent.caseID, on: connection)
        return (try decode(row, keys: keys, assessed: true), cancelled)
    }

    /// Amends `old` by a new version from `draft`, linked to it; `old` is kept, superseded. Each
    /// open referral that relied on `old` carries on under the new version when it still covers
    /// what the referral shares with its recipient, and is cancelled otherwise (S16), in the same
    /// transaction. Returns the new version, the referrals moved and those cancelled.
    public static func amend(_ old: Consent, _ draft: ConsentDraft, actor: Actor, capacityAssessedBy: UUID?, keys: KeyRing,
                             on connection: PGConnection) throws -> (consent: Consent, moved: [UUID], cancelled: [UUID]) {
        let now = Date()
        let marked = try connection.query(
            "UPDATE consent SET superseded_at = now(), version = version + 1 WHERE id = $1 AND superseded_at IS NULL AND withdrawn_at IS NULL RETURNING id",
            [old.id])
        guard !marked.rows.isEmpty else { throw StoreError.conflict("the consent has already been amended or withdrawn", field: nil) }
        let amended = try create(caseID: old.caseID, draft, actor: actor, capacityAssessedBy: capacityAssessedBy, supersedes: old.id,
                                 now: now, keys: keys, on: connection)
        var moved: [UUID] = []
        var ending: [UUID] = []
        for referral in try openReferrals(relyingOn: old.id, on: connection) {
            switch Consent.carried(recipient: referral.recipient, shared: referral.shared, to: amended, at: now) {
            case .moved: moved.append(referral.id)
            case .cancelled: ending.append(referral.id)
            }
        }
        if !moved.isEmpty {
            try connection.query("UPDATE referral SET consent_id = $1, updated_at = now(), version = version + 1 WHERE id = ANY ($2::uuid[])",
                                 [amended.id, PGTextArray(moved.map(\.uuidString))])
        }
        let cancelled = ending.isEmpty ? [] : try ReferralStore.cancelOpen(.listed(ending), reason: .consentWithdrawn, actor: actor, on: connection)
        try StatisticsConsent.refresh(caseID: old.caseID, on: connection)
        return (amended, moved, cancelled)
    }

    /// Withdraws the consent for one recipient organisation, keeping it for the others, and
    /// cancels that recipient's open referrals relying on it (S16); the recipient sees them end
    /// with `consent-withdrawn`. Returns the consent and the cancelled referrals.
    public static func withdraw(_ consent: Consent, for recipient: UUID, actor: Actor, keys: KeyRing,
                                on connection: PGConnection) throws -> (Consent, [UUID]) {
        let entry = Consent.RecipientWithdrawal(recipientOrganisation: recipient, withdrawnAt: Date())
        let added = PGJSON(text: String(decoding: try FieldSealing.encoder.encode([entry]), as: UTF8.self))
        let result = try connection.query("""
            UPDATE consent SET withdrawn_recipients = withdrawn_recipients || $2::jsonb, version = version + 1
            WHERE id = $1 AND withdrawn_at IS NULL AND superseded_at IS NULL RETURNING
            """ + " " + wholeColumns, [consent.id, added])
        guard let row = result.first else { throw StoreError.conflict("the consent is no longer active", field: nil) }
        let ending = try openReferrals(relyingOn: consent.id, on: connection).filter { $0.recipient == recipient }.map(\.id)
        let cancelled = ending.isEmpty ? [] : try ReferralStore.cancelOpen(.listed(ending), reason: .consentWithdrawn, actor: actor, on: connection)
        return (try decode(row, keys: keys, assessed: true), cancelled)
    }

    /// The open referrals relying on a consent: their recipient and what they share.
    static func openReferrals(relyingOn consent: UUID, on connection: PGConnection) throws -> [(id: UUID, recipient: UUID, shared: Set<DataCategory>)] {
        try connection.query("""
            SELECT r.id, r.to_organisation_id, r.shared_categories FROM referral r
            WHERE r.consent_id = $1 AND r.status IN ('requested', 'received', 'accepted', 'in-progress', 'on-hold')
            ORDER BY r.id FOR UPDATE
            """, [consent]).rows.map { row in
            (try row.decode(UUID.self, at: 0), try row.decode(UUID.self, at: 1),
             Set(try row.codes(DataCategory.self, at: 2)))
        }
    }
}
