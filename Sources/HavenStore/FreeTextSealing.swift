import Foundation
import HavenCore
import Postgres
import Sealing

/// Seals free text that an older Haven stored in clear (labour sector, violence location,
/// consent purposes, service and referral outcomes, counsellors' names), once, at start-up.
///
/// A migration cannot do it: sealing needs the key file, which the database never sees. Readers
/// fall back to the clear column while it still holds a value, so answers are right before,
/// during and after this pass; the pass empties the clear columns so a dump holds none of it.
/// Idempotent: a second run finds nothing to do.
public enum FreeTextSealing {
    typealias Step = @Sendable (KeyRing, Int, PGConnection) throws -> Int

    /// Seals every value still in clear, a batch per transaction; returns how many rows changed.
    @discardableResult
    public static func sealClearValues(store: Store, batch: Int = 500) async throws -> Int {
        var total = 0
        for step in [caseProfiles, consentPurposes, serviceEpisodes, referralOutcomes, transitionOutcomes] as [Step] {
            while true {
                let changed = try await store.transaction(.system) { try step($0.keys, batch, $0.connection) }
                total += changed
                if changed < batch { break }
            }
        }
        if total > 0 {
            let count = total
            try await store.transaction(.system) { transaction in
                try transaction.audit(.update, .keysSealFreeText, purpose: .administration, detail: ["rows": .int(count)])
            }
        }
        return total
    }

    static let caseProfiles: Step = { keys, batch, connection in
        let rows = try connection.query("""
            SELECT id, labour_sector, violence_location FROM case_file
            WHERE labour_sector IS NOT NULL OR violence_location IS NOT NULL LIMIT $1 FOR UPDATE SKIP LOCKED
            """, [batch])
        for row in rows.rows {
            let id: UUID = try row.decode(at: 0)
            try connection.execute("""
                UPDATE case_file SET labour_sector_sealed = coalesce($2, labour_sector_sealed), labour_sector = NULL,
                    violence_location_sealed = coalesce($3, violence_location_sealed), violence_location = NULL
                WHERE id = $1
                """, [id, try FieldSealing.sealText(try row.decode(String?.self, at: 1), CaseStore.labourSectorLabel(id), keys: keys),
                      try FieldSealing.sealText(try row.decode(String?.self, at: 2), CaseStore.violenceLocationLabel(id), keys: keys)])
        }
        return rows.rowCount
    }

    static let consentPurposes: Step = { keys, batch, connection in
        let rows = try connection.query("""
            SELECT id, provisions::text FROM consent
            WHERE EXISTS (SELECT 1 FROM jsonb_array_elements(provisions) p WHERE coalesce(p ->> 'purpose', '') <> '')
            LIMIT $1 FOR UPDATE SKIP LOCKED
            """, [batch])
        for row in rows.rows {
            let id: UUID = try row.decode(at: 0)
            guard let provisions = try? FieldSealing.decoder.decode([Consent.Provision].self, from: Data(try row.decode(String.self, at: 1).utf8)) else {
                throw StoreError.configuration("consent \(id.lowercasedString) has provisions Haven cannot read")
            }
            try connection.execute("UPDATE consent SET provisions = $2::jsonb, purposes_sealed = $3 WHERE id = $1", [
                id, try ConsentStore.provisionsJSON(provisions),
                try FieldSealing.seal(provisions.map(\.purpose), ConsentStore.purposesLabel(id), keys: keys),
            ])
        }
        return rows.rowCount
    }

    static let serviceEpisodes: Step = { keys, batch, connection in
        let rows = try connection.query("""
            SELECT id, outcome, detail::text FROM service_episode
            WHERE outcome IS NOT NULL OR EXISTS (
                SELECT 1 FROM jsonb_array_elements(CASE WHEN jsonb_typeof(detail -> 'counselling') = 'array' THEN detail -> 'counselling'
                                                        ELSE '[]'::jsonb END) s
                WHERE coalesce(s ->> 'counsellor', '') <> '')
            LIMIT $1 FOR UPDATE SKIP LOCKED
            """, [batch])
        for row in rows.rows {
            let id: UUID = try row.decode(at: 0)
            guard let detail = try? FieldSealing.decoder.decode(ServiceDetail.self, from: Data(try row.decode(String.self, at: 2).utf8)) else {
                throw StoreError.configuration("service \(id.lowercasedString) has detail Haven cannot read")
            }
            // Names already sealed stay as they are when the clear ones are blank.
            let names = detail.counselling?.map(\.counsellor) ?? []
            let counsellors = names.contains { !$0.isEmpty } ? try ServiceStore.sealedCounsellors(detail, id, keys: keys) : nil
            try connection.execute("""
                UPDATE service_episode SET outcome_sealed = coalesce($2, outcome_sealed), outcome = NULL, detail = $3::jsonb,
                    counsellors_sealed = coalesce($4, counsellors_sealed)
                WHERE id = $1
                """, [id, try FieldSealing.sealText(try row.decode(String?.self, at: 1), ServiceStore.outcomeLabel(id), keys: keys),
                      try ServiceStore.detailJSON(detail), counsellors])
        }
        return rows.rowCount
    }

    static let referralOutcomes: Step = { keys, batch, connection in
        let rows = try connection.query("SELECT id, outcome FROM referral WHERE outcome IS NOT NULL LIMIT $1 FOR UPDATE SKIP LOCKED", [batch])
        for row in rows.rows {
            let id: UUID = try row.decode(at: 0)
            try connection.execute("UPDATE referral SET outcome_sealed = coalesce($2, outcome_sealed), outcome = NULL WHERE id = $1", [
                id, try FieldSealing.sealText(try row.decode(String?.self, at: 1), ReferralStore.outcomeLabel(id), keys: keys),
            ])
        }
        return rows.rowCount
    }

    static let transitionOutcomes: Step = { keys, batch, connection in
        let rows = try connection.query("SELECT uid, outcome FROM referral_transition WHERE outcome IS NOT NULL LIMIT $1 FOR UPDATE SKIP LOCKED",
                                        [batch])
        for row in rows.rows {
            let uid: UUID = try row.decode(at: 0)
            try connection.execute("UPDATE referral_transition SET outcome_sealed = coalesce($2, outcome_sealed), outcome = NULL WHERE uid = $1", [
                uid, try FieldSealing.sealText(try row.decode(String?.self, at: 1), ReferralStore.transitionOutcomeLabel(uid), keys: keys),
            ])
        }
        return rows.rowCount
    }
}
