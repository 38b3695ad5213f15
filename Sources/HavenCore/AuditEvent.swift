import Foundation

/// A subset of FHIR `AuditEvent`. `detail` holds field names and state changes, never the
/// values of identifying fields.
public struct AuditEvent: Sendable, Equatable {
    public enum Action: String, Sendable, Codable, CaseIterable {
        case create = "C", read = "R", update = "U", delete = "D", execute = "E"
    }

    public enum Outcome: String, ClosedSet {
        case success, denied, error
    }

    public var recorded: Date
    public var action: Action
    public var subtype: AuditSubtype
    public var outcome: Outcome
    public var actorUser: UUID?
    public var actorOrganisation: UUID?
    public var actorRole: Role?
    public var actorAddress: String?
    public var entityKind: EntityKind?
    public var entityID: String?
    public var caseID: UUID?
    /// The organisation whose record was touched, so its supervisors see the event.
    public var subjectOrganisation: UUID?
    public var purpose: Purpose
    public var detail: [String: AuditDetail]
    public var requestID: String?

    public var type: String { subtype.type }

    /// `case.read` → `case`.
    public static func type(of subtype: String) -> String {
        guard let dot = subtype.utf8.firstIndex(of: UInt8(ascii: ".")) else { return subtype }
        return String(subtype[..<dot])
    }

    public init(
        recorded: Date, action: Action, subtype: AuditSubtype, outcome: Outcome = .success,
        actorUser: UUID? = nil, actorOrganisation: UUID? = nil, actorRole: Role? = nil, actorAddress: String? = nil,
        entityKind: EntityKind? = nil, entityID: String? = nil, caseID: UUID? = nil, subjectOrganisation: UUID? = nil,
        purpose: Purpose, detail: [String: AuditDetail] = [:], requestID: String? = nil
    ) {
        self.recorded = recorded
        self.action = action
        self.subtype = subtype
        self.outcome = outcome
        self.actorUser = actorUser
        self.actorOrganisation = actorOrganisation
        self.actorRole = actorRole
        self.actorAddress = actorAddress
        self.entityKind = entityKind
        self.entityID = entityID
        self.caseID = caseID
        self.subjectOrganisation = subjectOrganisation
        self.purpose = purpose
        self.detail = detail
        self.requestID = requestID
    }

    /// `recorded` truncated to the microsecond PostgreSQL stores, as an integer.
    public var recordedMicroseconds: Int64 { AuditEvent.microseconds(recorded) }

    public static func microseconds(_ date: Date) -> Int64 {
        Int64((date.timeIntervalSince1970 * 1_000_000).rounded())
    }

    /// `detail` as canonical JSON: keys sorted, no whitespace, so it hashes the same every time.
    public var detailJSON: String { AuditDetail.object(detail).canonicalJSON }

    /// The bytes the event's MAC and the chain hash cover: every field, each length-prefixed
    /// so no two different events encode alike.
    public static func canonicalBytes(
        recordedMicroseconds: Int64, action: String, subtype: String, outcome: String,
        actorUser: String?, actorOrganisation: String?, actorRole: String?, actorAddress: String?,
        entityKind: String?, entityID: String?, caseID: String?, subjectOrganisation: String?,
        purpose: String, detailJSON: String, requestID: String?
    ) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(320 + detailJSON.utf8.count)
        bytes.append(contentsOf: canonicalPrefix)
        func append(_ field: String?) { appendField(field?.utf8, to: &bytes) }
        append(String(recordedMicroseconds))
        append(action)
        append(subtype)
        append(outcome)
        append(actorUser)
        append(actorOrganisation)
        append(actorRole)
        append(actorAddress)
        append(entityKind)
        append(entityID)
        append(caseID)
        append(subjectOrganisation)
        append(purpose)
        append(detailJSON)
        append(requestID)
        return bytes
    }

    public static let canonicalPrefix = Array("haven-audit-v1".utf8)

    /// One field of the canonical form: its length as four big-endian bytes, then its UTF-8
    /// bytes; a missing field is FF FF FF FF.
    @inlinable
    public static func appendField<Field: Collection<UInt8>>(_ field: Field?, to bytes: inout [UInt8]) {
        guard let field else {
            bytes.append(contentsOf: [0xFF, 0xFF, 0xFF, 0xFF])
            return
        }
        appendLength(UInt32(field.count), to: &bytes)
        bytes.append(contentsOf: field)
    }

    @inlinable
    public static func appendLength(_ count: UInt32, to bytes: inout [UInt8]) {
        bytes.append(UInt8(count >> 24))
        bytes.append(UInt8(count >> 16 & 0xFF))
        bytes.append(UInt8(count >> 8 & 0xFF))
        bytes.append(UInt8(count & 0xFF))
    }

    public var canonicalBytes: [UInt8] { canonicalBytes(detailJSON: detailJSON) }

    /// `canonicalBytes` with the detail already spelled (the writer binds the same text). The
    /// same bytes as the field-by-field form the verifier uses, written without a string per
    /// UUID: every audited request MACs one event.
    public func canonicalBytes(detailJSON: String) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(320 + detailJSON.utf8.count)
        bytes.append(contentsOf: AuditEvent.canonicalPrefix)
        func append(_ field: String?) { AuditEvent.appendField(field?.utf8, to: &bytes) }
        func append(_ uuid: UUID?) {
            guard let uuid else { return AuditEvent.appendField(nil as [UInt8]?, to: &bytes) }
            AuditEvent.appendLength(36, to: &bytes)
            uuid.withSpelling(upper: false) { bytes.append(contentsOf: $0) }
        }
        append(String(recordedMicroseconds))
        append(action.rawValue)
        append(subtype.rawValue)
        append(outcome.rawValue)
        append(actorUser)
        append(actorOrganisation)
        append(actorRole?.rawValue)
        append(actorAddress)
        append(entityKind?.rawValue)
        append(entityID)
        append(caseID)
        append(subjectOrganisation)
        append(purpose.rawValue)
        append(detailJSON)
        append(requestID)
        return bytes
    }
}

/// A value in an audit event's detail: names, states, counts; a JSON subset with one
/// canonical spelling.
public indirect enum AuditDetail: Sendable, Equatable, ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral, ExpressibleByArrayLiteral {
    case string(String)
    case int(Int)
    case bool(Bool)
    case array([AuditDetail])
    case object([String: AuditDetail])
    case null

    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int) { self = .int(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(arrayLiteral elements: AuditDetail...) { self = .array(elements) }

    public static func strings(_ values: [String]) -> AuditDetail { .array(values.map(AuditDetail.string)) }

    public var canonicalJSON: String {
        switch self {
        case .string(let value): return AuditDetail.quote(value)
        case .int(let value): return String(value)
        case .bool(let value): return value ? "true" : "false"
        case .null: return "null"
        case .array(let values): return "[" + values.map(\.canonicalJSON).joined(separator: ",") + "]"
        case .object(let fields):
            // Most events (every read) carry no detail.
            if fields.isEmpty { return "{}" }
            let members = fields.keys.sorted().map { AuditDetail.quote($0) + ":" + (fields[$0] ?? .null).canonicalJSON }
            return "{" + members.joined(separator: ",") + "}"
        }
    }

    static func quote(_ text: String) -> String {
        var output = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": output += "\\\""
            case "\\": output += "\\\\"
            case "\n": output += "\\n"
            case "\r": output += "\\r"
            case "\t": output += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                output += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: output.unicodeScalars.append(scalar)
            }
        }
        return output + "\""
    }
}

/// Where an audit event was written: the writing transaction's id and the event's index among
/// that transaction's events. Since the keyed chain (form 2) each event's MAC covers it, so a
/// copy of a genuine event under another id or in another transaction does not verify (S9).
public struct AuditPosition: Sendable, Equatable {
    public var xid: Int64
    public var index: Int32

    public init(xid: Int64, index: Int32) {
        self.xid = xid
        self.index = index
    }

    /// Appended to the canonical bytes: a tag that no field encoding ends with, then the
    /// transaction id and the index, big-endian.
    public static let tag = Array("haven-audit-v2".utf8)
    public static let encodedLength = tag.count + 12

    @inlinable
    public func append(to bytes: inout [UInt8]) {
        bytes.append(contentsOf: AuditPosition.tag)
        for shift in stride(from: 56, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: xid >> Int64(shift))) }
        for shift in stride(from: 24, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: index >> Int32(shift))) }
    }
}
