import Foundation
import HavenCore

/// The API's JSON writer: what `JSONEncoder` with a snake-case key strategy, RFC 3339 dates and
/// sorted keys produced, at a fraction of its cost. Foundation's encoder builds the coding path
/// of every key to hand it to a custom key strategy; lists of fifty cases spent most of their
/// time there. Here keys are converted through `SnakeCaseKey`'s cache and values are collected
/// into a small tree, then written out once.
struct APIJSONEncoder {
    func encode(_ value: some Encodable) throws -> [UInt8] {
        let root = try APIJSONEncoder.box(value, parent: nil, key: nil)
        var output: [UInt8] = []
        output.reserveCapacity(512)
        root.write(into: &output)
        return output
    }

    /// `value` as a node; `parent` and `key` say where it sits, for error messages, and become a
    /// path link only when the value needs an encoder of its own.
    static func box<T: Encodable>(_ value: T, parent: PathLink?, key: (any CodingKey)?) throws -> Node {
        // Metatype checks first: they cost nothing, where a dynamic cast per value would.
        if T.self == String.self, let text = value as? String { return .string(text) }
        if T.self == UUID.self, let uuid = value as? UUID { return .string(uuid.upperString) }
        if T.self == Date.self, let date = value as? Date { return .string(Timestamps.format(date)) }
        if T.self == Int.self, let number = value as? Int { return .number(String(number)) }
        if T.self == Bool.self, let flag = value as? Bool { return .bool(flag) }
        if T.self == URL.self, let url = value as? URL { return .string(url.absoluteString) }
        if T.self == Data.self, let data = value as? Data { return .string(data.base64EncodedString()) }
        let encoder = TreeEncoder(link: PathLink.make(parent, key))
        try value.encode(to: encoder)
        return encoder.storage.value ?? .object(ObjectNode())
    }

    static func number(_ value: Double, codingPath: @autoclosure () -> [any CodingKey]) throws -> Node {
        guard value.isFinite else {
            throw EncodingError.invalidValue(value, .init(codingPath: codingPath(), debugDescription: "\(value) is not a JSON number"))
        }
        var text = value.description
        if text.hasSuffix(".0") { text.removeLast(2) }
        return .number(text)
    }
}

/// A JSON value under construction; objects and arrays are references so nested containers can
/// fill them after they are attached to their parent.
enum Node {
    case null
    case bool(Bool)
    case number(String)
    case string(String)
    case array(ArrayNode)
    case object(ObjectNode)

    func write(into output: inout [UInt8]) {
        switch self {
        case .null: output.append(contentsOf: "null".utf8)
        case .bool(let value): output.append(contentsOf: (value ? "true" : "false").utf8)
        case .number(let text): output.append(contentsOf: text.utf8)
        case .string(let text): Node.writeString(text, into: &output)
        case .array(let array):
            output.append(UInt8(ascii: "["))
            for (index, element) in array.elements.enumerated() {
                if index > 0 { output.append(UInt8(ascii: ",")) }
                element.write(into: &output)
            }
            output.append(UInt8(ascii: "]"))
        case .object(let object):
            output.append(UInt8(ascii: "{"))
            // Sorted keys (byte order); a key written twice keeps its last value.
            let members = object.members
            let order = members.indices.sorted { left, right in
                let a = members[left].key, b = members[right].key
                return a == b ? left < right : a < b
            }
            var first = true
            for (position, index) in order.enumerated() {
                if position + 1 < order.count && members[order[position + 1]].key == members[index].key { continue }
                if !first { output.append(UInt8(ascii: ",")) }
                first = false
                Node.writeString(members[index].key, into: &output)
                output.append(UInt8(ascii: ":"))
                members[index].value.write(into: &output)
            }
            output.append(UInt8(ascii: "}"))
        }
    }

    static func writeString(_ text: String, into output: inout [UInt8]) {
        output.append(UInt8(ascii: "\""))
        // Most strings need no escape: copy them whole.
        if !text.utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) {
            output.append(contentsOf: text.utf8)
            output.append(UInt8(ascii: "\""))
            return
        }
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
            case UInt8(ascii: "\\"): output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
            case 0x0A: output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
            case 0x0D: output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
            case 0x09: output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
            case 0x08: output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "b")])
            case 0x0C: output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "f")])
            case 0x00..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"),
                                           hex[Int(byte >> 4)], hex[Int(byte & 0x0F)]])
            default: output.append(byte)
            }
        }
        output.append(UInt8(ascii: "\""))
    }
}

final class ArrayNode {
    var elements: [Node] = []
}

final class ObjectNode {
    var members: [(key: String, value: Node)] = []

    func set(_ key: String, _ value: Node) { members.append((key, value)) }
}

/// A coding path as a chain of links, turned into an array only when someone asks.
final class PathLink {
    let parent: PathLink?
    let key: any CodingKey

    init(parent: PathLink?, key: any CodingKey) {
        self.parent = parent
        self.key = key
    }

    static func make(_ parent: PathLink?, _ key: (any CodingKey)?) -> PathLink? {
        guard let key else { return parent }
        return PathLink(parent: parent, key: key)
    }

    static func path(_ link: PathLink?) -> [any CodingKey] {
        var keys: [any CodingKey] = []
        var current = link
        while let node = current {
            keys.append(node.key)
            current = node.parent
        }
        return keys.reversed()
    }
}

/// Where an encoder puts its one value.
final class NodeSlot {
    var value: Node?
}

final class TreeEncoder: Encoder {
    let link: PathLink?
    var codingPath: [any CodingKey] { PathLink.path(link) }
    var userInfo: [CodingUserInfoKey: Any] { [:] }
    let storage = NodeSlot()

    init(link: PathLink?) {
        self.link = link
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        let object: ObjectNode
        if case .object(let existing) = storage.value {
            object = existing
        } else {
            object = ObjectNode()
            storage.value = .object(object)
        }
        return KeyedEncodingContainer(KeyedNodeContainer<Key>(object: object, link: link))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        let array: ArrayNode
        if case .array(let existing) = storage.value {
            array = existing
        } else {
            array = ArrayNode()
            storage.value = .array(array)
        }
        return UnkeyedNodeContainer(array: array, link: link)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer {
        SingleNodeContainer(slot: storage, link: link)
    }
}

struct KeyedNodeContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let object: ObjectNode
    let link: PathLink?
    var codingPath: [any CodingKey] { PathLink.path(link) }

    private func name(_ key: Key) -> String { SnakeCaseKey.name(key) }

    mutating func encodeNil(forKey key: Key) throws { object.set(name(key), .null) }
    mutating func encode(_ value: Bool, forKey key: Key) throws { object.set(name(key), .bool(value)) }
    mutating func encode(_ value: String, forKey key: Key) throws { object.set(name(key), .string(value)) }
    mutating func encode(_ value: Double, forKey key: Key) throws {
        object.set(name(key), try APIJSONEncoder.number(value, codingPath: codingPath + [key]))
    }
    mutating func encode(_ value: Float, forKey key: Key) throws {
        object.set(name(key), try APIJSONEncoder.number(Double(value), codingPath: codingPath + [key]))
    }
    mutating func encode(_ value: Int, forKey key: Key) throws { object.set(name(key), .number(String(value))) }
    mutating func encode(_ value: Int8, forKey key: Key) throws { object.set(name(key), .number(String(value))) }
    mutating func encode(_ value: Int16, forKey key: Key) throws { object.set(name(key), .number(String(value))) }
    mutating func encode(_ value: Int32, forKey key: Key) throws { object.set(name(key), .number(String(value))) }
    mutating func encode(_ value: Int64, forKey key: Key) throws { object.set(name(key), .number(String(value))) }
    mutating func encode(_ value: UInt, forKey key: Key) throws { object.set(name(key), .number(String(value))) }
    mutating func encode(_ value: UInt8, forKey key: Key) throws { object.set(name(key), .number(String(value))) }
    mutating func encode(_ value: UInt16, forKey key: Key) throws { object.set(name(key), .number(String(value))) }
    mutating func encode(_ value: UInt32, forKey key: Key) throws { object.set(name(key), .number(String(value))) }
    mutating func encode(_ value: UInt64, forKey key: Key) throws { object.set(name(key), .number(String(value))) }
    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        object.set(name(key), try APIJSONEncoder.box(value, parent: link, key: key))
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
        let nested = ObjectNode()
        object.set(name(key), .object(nested))
        return KeyedEncodingContainer(KeyedNodeContainer<NestedKey>(object: nested, link: PathLink(parent: link, key: key)))
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        let nested = ArrayNode()
        object.set(name(key), .array(nested))
        return UnkeyedNodeContainer(array: nested, link: PathLink(parent: link, key: key))
    }

    mutating func superEncoder() -> any Encoder {
        SlotEncoder(link: link) { [object] node in object.set("super", node) }
    }

    mutating func superEncoder(forKey key: Key) -> any Encoder {
        let name = name(key)
        return SlotEncoder(link: PathLink(parent: link, key: key)) { [object] node in object.set(name, node) }
    }
}

struct UnkeyedNodeContainer: UnkeyedEncodingContainer {
    let array: ArrayNode
    let link: PathLink?
    var codingPath: [any CodingKey] { PathLink.path(link) }
    var count: Int { array.elements.count }

    mutating func encodeNil() throws { array.elements.append(.null) }
    mutating func encode(_ value: Bool) throws { array.elements.append(.bool(value)) }
    mutating func encode(_ value: String) throws { array.elements.append(.string(value)) }
    mutating func encode(_ value: Double) throws { array.elements.append(try APIJSONEncoder.number(value, codingPath: codingPath)) }
    mutating func encode(_ value: Float) throws { array.elements.append(try APIJSONEncoder.number(Double(value), codingPath: codingPath)) }
    mutating func encode(_ value: Int) throws { array.elements.append(.number(String(value))) }
    mutating func encode(_ value: Int64) throws { array.elements.append(.number(String(value))) }
    mutating func encode<T: Encodable>(_ value: T) throws {
        array.elements.append(try APIJSONEncoder.box(value, parent: link, key: IndexKey(intValue: count)))
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        let nested = ObjectNode()
        array.elements.append(.object(nested))
        return KeyedEncodingContainer(KeyedNodeContainer<NestedKey>(object: nested, link: PathLink(parent: link, key: IndexKey(intValue: count - 1))))
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        let nested = ArrayNode()
        array.elements.append(.array(nested))
        return UnkeyedNodeContainer(array: nested, link: PathLink(parent: link, key: IndexKey(intValue: count - 1)))
    }

    mutating func superEncoder() -> any Encoder {
        let index = array.elements.count
        array.elements.append(.null)
        return SlotEncoder(link: PathLink(parent: link, key: IndexKey(intValue: index))) { [array] node in array.elements[index] = node }
    }
}

struct SingleNodeContainer: SingleValueEncodingContainer {
    let slot: NodeSlot
    let link: PathLink?
    var codingPath: [any CodingKey] { PathLink.path(link) }

    mutating func encodeNil() throws { slot.value = .null }
    mutating func encode(_ value: Bool) throws { slot.value = .bool(value) }
    mutating func encode(_ value: String) throws { slot.value = .string(value) }
    mutating func encode(_ value: Double) throws { slot.value = try APIJSONEncoder.number(value, codingPath: codingPath) }
    mutating func encode(_ value: Float) throws { slot.value = try APIJSONEncoder.number(Double(value), codingPath: codingPath) }
    mutating func encode(_ value: Int) throws { slot.value = .number(String(value)) }
    mutating func encode(_ value: Int64) throws { slot.value = .number(String(value)) }
    mutating func encode<T: Encodable>(_ value: T) throws { slot.value = try APIJSONEncoder.box(value, parent: link, key: nil) }
}

/// An encoder whose value lands in a parent container once it is complete (super encoders).
final class SlotEncoder: Encoder {
    var codingPath: [any CodingKey] { inner.codingPath }
    var userInfo: [CodingUserInfoKey: Any] { [:] }
    private let inner: TreeEncoder
    private let place: (Node) -> Void

    init(link: PathLink?, place: @escaping (Node) -> Void) {
        self.inner = TreeEncoder(link: link)
        self.place = place
    }

    deinit { place(inner.storage.value ?? .object(ObjectNode())) }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> { inner.container(keyedBy: type) }
    func unkeyedContainer() -> any UnkeyedEncodingContainer { inner.unkeyedContainer() }
    func singleValueContainer() -> any SingleValueEncodingContainer { inner.singleValueContainer() }
}

struct IndexKey: CodingKey {
    var stringValue: String { String(intValue ?? 0) }
    var intValue: Int?

    init(intValue: Int) { self.intValue = intValue }
    init?(stringValue: String) { nil }
}
