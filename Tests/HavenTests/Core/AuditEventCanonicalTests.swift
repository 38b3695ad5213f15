import Foundation
import HavenCore
import Testing

@Suite struct AuditEventCanonicalTests {
    static let user = UUID(uuidString: "6F1C2A4E-0000-4000-8000-000000000001")!
    static let organisation = UUID(uuidString: "6F1C2A4E-0000-4000-8000-000000000002")!
    static let caseID = UUID(uuidString: "6F1C2A4E-0000-4000-8000-000000000003")!
    static let subject = UUID(uuidString: "6F1C2A4E-0000-4000-8000-000000000004")!

    static let sample = AuditEvent(
        recorded: Date(timeIntervalSince1970: 1_800_000_000.123456), action: .update, subtype: .referralTransition,
        outcome: .success, actorUser: user, actorOrganisation: organisation, actorRole: .caseworker, actorAddress: "192.0.2.10",
        entityKind: .referral, entityID: "ref-1", caseID: caseID, subjectOrganisation: subject, purpose: .caseManagement,
        detail: ["from": "requested", "to": "accepted", "fields": ["status", "status_reason"]], requestID: "req-1")

    @Test func deterministic() {
        #expect(Self.sample.canonicalBytes == Self.sample.canonicalBytes)
        let copy = Self.sample
        #expect(copy.canonicalBytes == Self.sample.canonicalBytes)
        // Dictionary order of the detail does not matter.
        var reordered = Self.sample
        reordered.detail = ["fields": ["status", "status_reason"], "to": "accepted", "from": "requested"]
        #expect(reordered.canonicalBytes == Self.sample.canonicalBytes)
    }

    /// Every field, changed on its own, changes the bytes.
    @Test(arguments: [
        "recorded", "action", "subtype", "outcome", "actorUser", "actorUser=nil", "actorOrganisation", "actorRole",
        "actorRole=nil", "actorAddress", "actorAddress=nil", "entityKind", "entityID", "caseID", "caseID=nil",
        "subjectOrganisation", "purpose", "detail", "detail=empty", "detail.nested", "requestID", "requestID=nil",
    ])
    func everySingleFieldChangeChangesTheBytes(_ field: String) {
        var event = Self.sample
        let other = UUID(uuidString: "6F1C2A4E-0000-4000-8000-0000000000FF")!
        switch field {
        case "recorded": event.recorded = event.recorded.addingTimeInterval(0.000001)
        case "action": event.action = .read
        case "subtype": event.subtype = .referralHandler
        case "outcome": event.outcome = .denied
        case "actorUser": event.actorUser = other
        case "actorUser=nil": event.actorUser = nil
        case "actorOrganisation": event.actorOrganisation = other
        case "actorRole": event.actorRole = .supervisor
        case "actorRole=nil": event.actorRole = nil
        case "actorAddress": event.actorAddress = "192.0.2.11"
        case "actorAddress=nil": event.actorAddress = nil
        case "entityKind": event.entityKind = .caseFile
        case "entityID": event.entityID = "ref-2"
        case "caseID": event.caseID = other
        case "caseID=nil": event.caseID = nil
        case "subjectOrganisation": event.subjectOrganisation = other
        case "purpose": event.purpose = .supervision
        case "detail": event.detail["to"] = "rejected"
        case "detail=empty": event.detail = [:]
        case "detail.nested": event.detail["fields"] = ["status"]
        case "requestID": event.requestID = "req-2"
        case "requestID=nil": event.requestID = nil
        default: Issue.record("unknown field \(field)")
        }
        #expect(event != Self.sample)
        #expect(event.canonicalBytes != Self.sample.canonicalBytes)
    }

    @Test func moreFieldsThanTheStaticFormLeavesOutAreCoveredByTheInstanceForm() {
        // The static form and the instance form agree, with UUIDs in lower case.
        let e = Self.sample
        let bytes = AuditEvent.canonicalBytes(
            recordedMicroseconds: 1_800_000_000_123_456, action: "U", subtype: "referral.transition", outcome: "success",
            actorUser: Self.user.uuidString.lowercased(), actorOrganisation: Self.organisation.uuidString.lowercased(),
            actorRole: "caseworker", actorAddress: "192.0.2.10", entityKind: "referral", entityID: "ref-1",
            caseID: Self.caseID.uuidString.lowercased(), subjectOrganisation: Self.subject.uuidString.lowercased(),
            purpose: "case-management", detailJSON: #"{"fields":["status","status_reason"],"from":"requested","to":"accepted"}"#,
            requestID: "req-1")
        #expect(e.canonicalBytes == bytes)
    }

    @Test func fieldBoundariesCannotBeShifted() {
        func bytes(kind: String?, id: String?) -> [UInt8] {
            AuditEvent.canonicalBytes(
                recordedMicroseconds: 0, action: "R", subtype: "case.read", outcome: "success", actorUser: nil,
                actorOrganisation: nil, actorRole: nil, actorAddress: nil, entityKind: kind, entityID: id, caseID: nil,
                subjectOrganisation: nil, purpose: "audit", detailJSON: "{}", requestID: nil)
        }
        #expect(bytes(kind: "ab", id: "c") != bytes(kind: "a", id: "bc"))
        #expect(bytes(kind: "abc", id: "") != bytes(kind: "", id: "abc"))
        // Absent and empty are different.
        #expect(bytes(kind: nil, id: "x") != bytes(kind: "", id: "x"))
        #expect(bytes(kind: "x", id: nil) != bytes(kind: "x", id: ""))
        #expect(bytes(kind: nil, id: nil) != bytes(kind: "", id: ""))
    }

    /// The exact encoding, so the database-side verifier and this code cannot drift apart.
    @Test func knownAnswerForAMinimalEvent() {
        let event = AuditEvent(recorded: Date(timeIntervalSince1970: 0), action: .create, subtype: .needClose, purpose: .audit)
        var expected = Array("haven-audit-v1".utf8)
        func field(_ text: String) {
            let utf8 = Array(text.utf8)
            expected += [0, 0, UInt8(utf8.count >> 8), UInt8(utf8.count & 0xFF)] + utf8
        }
        let absent: [UInt8] = [0xFF, 0xFF, 0xFF, 0xFF]
        field("0")  // recorded microseconds
        field("C")
        field("need.close")
        field("success")
        for _ in 0..<8 { expected += absent }  // actor user/org/role/address, entity kind/id, case, subject org
        field("audit")
        field("{}")
        expected += absent  // request id
        #expect(event.canonicalBytes == expected)
        #expect(event.type == "need")
    }

    @Test func recordedIsKeptToTheMicrosecond() {
        var a = Self.sample
        var b = Self.sample
        a.recorded = Date(timeIntervalSince1970: 1_800_000_000.123456)
        b.recorded = Date(timeIntervalSince1970: 1_800_000_000.1234561)
        #expect(a.recordedMicroseconds == 1_800_000_000_123_456)
        #expect(a.canonicalBytes == b.canonicalBytes)
        #expect(AuditEvent.microseconds(Date(timeIntervalSince1970: -1.5)) == -1_500_000)
    }

    @Test func typeIsTheSubtypePrefix() {
        var event = Self.sample
        #expect(event.type == "referral")
        event.subtype = .authLoginFailed
        #expect(event.type == "auth")
        event.subtype = .export
        #expect(event.type == "export")
    }

    // MARK: Detail JSON

    @Test func detailJSONSortsKeysAtEveryLevelWithoutWhitespace() {
        let detail: AuditDetail = .object([
            "zeta": 1, "alpha": .object(["b": true, "a": .null, "C": false]), "mid": ["z", "a"], "Beta": -7,
        ])
        #expect(detail.canonicalJSON == #"{"Beta":-7,"alpha":{"C":false,"a":null,"b":true},"mid":["z","a"],"zeta":1}"#)
        #expect(AuditDetail.object([:]).canonicalJSON == "{}")
        #expect(AuditDetail.array([]).canonicalJSON == "[]")
        #expect(AuditDetail.strings(["b", "a"]).canonicalJSON == #"["b","a"]"#)
    }

    @Test func detailJSONEscapesQuotesBackslashesAndControlCharacters() {
        let text = "say \"hi\"\\ \n\r\t\u{01}\u{1F} é 🇲🇩 \u{7F}"
        let json = AuditDetail.string(text).canonicalJSON
        #expect(json == "\"say \\\"hi\\\"\\\\ \\n\\r\\t\\u0001\\u001f é 🇲🇩 \u{7F}\"")
        // And it is valid JSON that decodes back to the same text.
        let decoded = try? JSONSerialization.jsonObject(with: Data("[\(json)]".utf8)) as? [String]
        #expect(decoded == [text])
    }

    @Test func detailJSONEscapesKeysToo() {
        let json = AuditDetail.object(["we\"ird\nkey": "v"]).canonicalJSON
        #expect(json == #"{"we\"ird\nkey":"v"}"#)
        let decoded = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: String]
        #expect(decoded == ["we\"ird\nkey": "v"])
    }

    @Test func eventDetailJSONIsTheCanonicalObject() {
        #expect(Self.sample.detailJSON == #"{"fields":["status","status_reason"],"from":"requested","to":"accepted"}"#)
        var empty = Self.sample
        empty.detail = [:]
        #expect(empty.detailJSON == "{}")
    }

    @Test func literalsBuildDetails() {
        let detail: [String: AuditDetail] = ["s": "x", "i": 3, "b": false, "a": ["y", 1, true]]
        #expect(AuditDetail.object(detail).canonicalJSON == #"{"a":["y",1,true],"b":false,"i":3,"s":"x"}"#)
    }
}
