import Foundation
import HavenCore

/// Decodes a request body's `JSONTree` into a request type, with the API's conventions (snake_case
/// member names, RFC 3339 instants and calendar dates read strictly by `DateInput`), and refuses a
/// member no field of the type reads: a client that misspells `expires_at` or sends a field Haven
/// does not have must learn it, not believe it was stored.
enum BodyDecoder {
    /// A member of an object that the type did not read.
    struct UnknownMember: Error, Equatable {
        var path: String
    }

    /// A number the field's type cannot hold (a fraction for an integer, past 64 bits).
    struct NumberOutOfRange: Error, Equatable {
        var path: String
        var integer: Bool
    }

    /// A member that could not be read, where it is in the body (path parts as sent) and why.
    struct Located: Error {
        var path: [String]
        var error: any Error
    }

    /// Every member the body got wrong, each once, in the order met; `value` is the body read
    /// with a stand-in for each wrong member (for checking the rules of the rest), when one could
    /// be built; `paths` are the wrong members' paths, to set aside rule failures under them.
    /// Unchecked: `value` is a tree of JSON values (strings, numbers, arrays, dictionaries) built
    /// once and only read after.
    struct Invalid: Error, @unchecked Sendable {
        var failures: [any Error]
        var paths: [String]
        var value: Any?

        /// Whether `field` is a wrong member or lies inside one.
        func covers(_ field: String) -> Bool {
            paths.contains { $0 == "body" || field == $0 || field.hasPrefix($0 + ".") || field.hasPrefix($0 + "[") }
        }
    }

    /// Reads the whole body, however many of its members are wrong: each wrong member is noted
    /// and read again as a stand-in, so one answer names every one (a client fixes all at once).
    /// `refuseUnknown` false lets members no field reads pass (the console's own form bodies).
    static func decode<T: Decodable>(_ type: T.Type, from tree: JSONTree, refuseUnknown: Bool = true) throws -> T {
        let hollow = Hollow()
        var failures: [Located] = []
        // Each pass finds one more wrong member; a body has at most as many as it has values.
        for _ in 0..<200 {
            let reads = Reads()
            do {
                let value = try TreeDecoder(tree, path: [], reads: reads, hollow: hollow).read(T.self)
                let unknown = refuseUnknown ? reads.unread() : []
                if failures.isEmpty && unknown.isEmpty { return value }
                throw Invalid(failures: failures.map(\.error) + unknown.map { UnknownMember(path: $0) },
                              paths: failures.map { JSONTree.path($0.path) }, value: value)
            } catch let located as Located {
                // A stand-in that could not be built: report what is known.
                if hollow.covers(located.path) { break }
                failures.append(located)
                hollow.paths.insert(located.path)
            } catch let invalid as Invalid {
                throw invalid
            } catch {
                failures.append(Located(path: [], error: error))
                break
            }
        }
        throw Invalid(failures: failures.map(\.error), paths: failures.map { JSONTree.path($0.path) }, value: nil)
    }

    /// The paths of members found wrong, read as stand-ins on the next pass.
    final class Hollow {
        var paths: Set<[String]> = []

        func covers(_ path: [String]) -> Bool {
            paths.contains { $0.count <= path.count && Array(path.prefix($0.count)) == $0 }
        }
    }

    /// Which members of each object the decoding read, by the object's path. Several containers
    /// may open the same object (a type trying one shape, then another): a member counts as read
    /// if any of them read it.
    final class Reads {
        private var objects: [(path: [String], members: [String])] = []
        private var read: [[String]: Set<String>] = [:]

        func opened(_ path: [String], members: [String]) {
            if read[path] == nil {
                read[path] = []
                objects.append((path, members))
            }
        }

        func read(_ member: String, of path: [String]) { read[path, default: []].insert(member) }

        func unread() -> [String] {
            objects.flatMap { path, members in
                let seen = read[path] ?? []
                return members.filter { !seen.contains($0) }.map { JSONTree.path(path + [$0]) }
            }
        }
    }
}

/// Decodes a `[String: Value]` member by member, its keys as sent (no snake_case mapping), as
/// Foundation's decoder does.
protocol StringKeyedDictionary {
    static func decodeMembers(_ members: [(key: String, value: JSONTree)], path: [String], reads: BodyDecoder.Reads, hollow: BodyDecoder.Hollow,
                              codingPath: [any CodingKey]) throws -> Self
}

extension Dictionary: StringKeyedDictionary where Key == String, Value: Decodable {
    static func decodeMembers(_ members: [(key: String, value: JSONTree)], path: [String], reads: BodyDecoder.Reads, hollow: BodyDecoder.Hollow,
                              codingPath: [any CodingKey]) throws -> Self {
        var result: [String: Value] = [:]
        for member in members {
            result[member.key] = try TreeDecoder(member.value, path: path + [member.key], reads: reads, hollow: hollow,
                                                 codingPath: codingPath + [TreeKey(member.key)]).read(Value.self)
        }
        return result
    }
}

struct TreeKey: CodingKey {
    var stringValue: String
    var intValue: Int?
    init(_ name: String) { stringValue = name }
    init(index: Int) { stringValue = "[\(index)]"; intValue = index }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { self.init(index: intValue) }
}

struct TreeDecoder: Decoder {
    let node: JSONTree
    /// The path as sent (member names and `[index]`), for refusals.
    let path: [String]
    let reads: BodyDecoder.Reads
    let hollow: BodyDecoder.Hollow
    let codingPath: [any CodingKey]
    /// A member found wrong on an earlier pass (or inside one): read as a stand-in value.
    let standIn: Bool
    var userInfo: [CodingUserInfoKey: Any] { [DateInput.userInfoKey: true] }

    init(_ node: JSONTree, path: [String], reads: BodyDecoder.Reads, hollow: BodyDecoder.Hollow, codingPath: [any CodingKey] = [],
         standIn: Bool = false) {
        self.node = standIn ? .null : node
        self.path = path
        self.reads = reads
        self.hollow = hollow
        self.codingPath = codingPath
        self.standIn = standIn || hollow.paths.contains(path)
    }

    func context(_ description: String) -> DecodingError.Context {
        DecodingError.Context(codingPath: codingPath, debugDescription: description)
    }

    /// A value of `T`: scalars and dates here, everything else through its own `init(from:)`.
    /// A refusal carries the path of the member refused.
    func read<T: Decodable>(_ type: T.Type) throws -> T {
        do {
            return standIn ? try standInValue(T.self) : try readValue(T.self)
        } catch let located as BodyDecoder.Located {
            throw located
        } catch DecodingError.keyNotFound(let key, let context) {
            throw BodyDecoder.Located(path: path + [SnakeCaseKey.name(key)], error: DecodingError.keyNotFound(key, context))
        } catch {
            throw BodyDecoder.Located(path: path, error: error)
        }
    }

    /// Something of `T` in place of a wrong member, so the rest of the body can still be read.
    private func standInValue<T: Decodable>(_ type: T.Type) throws -> T {
        func first<C: CaseIterable>(_ type: C.Type) -> Any? { C.allCases.first }
        switch T.self {
        case is String.Type: return try cast("")
        case is Bool.Type: return try cast(false)
        case is Date.Type: return try cast(Date(timeIntervalSince1970: 0))
        case is Double.Type: return try cast(0.0)
        case is Float.Type: return try cast(Float(0))
        case is UUID.Type: return try cast(UUID(uuid: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)))
        case is CalendarDate.Type:
            guard let day = CalendarDate(year: 2000, month: 1, day: 1) else { throw DecodingError.valueNotFound(T.self, context("no stand-in")) }
            return try cast(day)
        case let integer as any FixedWidthInteger.Type: return try cast(integer.init(0))
        case let dictionary as any StringKeyedDictionary.Type:
            return try cast(try dictionary.decodeMembers([], path: path, reads: reads, hollow: hollow, codingPath: codingPath))
        case let closed as any CaseIterable.Type:
            guard let value = first(closed) else { throw DecodingError.valueNotFound(T.self, context("no stand-in")) }
            return try cast(value)
        default:
            return try T(from: self)
        }
    }

    private func readValue<T: Decodable>(_ type: T.Type) throws -> T {
        switch T.self {
        case is String.Type:
            guard case .string(let text) = node else { throw mismatch(String.self) }
            return try cast(text)
        case is Bool.Type:
            guard case .bool(let flag) = node else { throw mismatch(Bool.self) }
            return try cast(flag)
        case is Date.Type:
            guard case .string(let text) = node else { throw mismatch(String.self) }
            guard let date = DateInput.instant(text) else {
                throw DecodingError.dataCorrupted(context("must be an RFC 3339 date-time with its offset, such as 2026-11-22T10:00:00Z, in the years 1900–2200"))
            }
            return try cast(date)
        case is Double.Type, is Float.Type:
            guard case .number(let text) = node else { throw mismatch(Double.self) }
            guard let value = Double(text), value.isFinite else { throw BodyDecoder.NumberOutOfRange(path: JSONTree.path(path), integer: false) }
            return T.self == Float.self ? try cast(Float(value)) : try cast(value)
        case let integer as any FixedWidthInteger.Type:
            guard case .number(let text) = node else { throw mismatch(Int.self) }
            guard let value = Self.integer(integer, text) else { throw BodyDecoder.NumberOutOfRange(path: JSONTree.path(path), integer: true) }
            return try cast(value)
        case let dictionary as any StringKeyedDictionary.Type:
            guard case .object(let members) = node else { throw DecodingError.typeMismatch([String: Any].self, context("not an object")) }
            return try cast(try dictionary.decodeMembers(members, path: path, reads: reads, hollow: hollow, codingPath: codingPath))
        default:
            return try T(from: self)
        }
    }

    private static func integer<I: FixedWidthInteger>(_ type: I.Type, _ text: String) -> I? { I(text, radix: 10) }

    /// A scalar of the wrong kind; null where a value is required.
    private func mismatch(_ type: Any.Type) -> DecodingError {
        if case .null = node { return DecodingError.valueNotFound(type, context("must not be null")) }
        return DecodingError.typeMismatch(type, context("of another type"))
    }

    private func cast<T>(_ value: Any) throws -> T {
        guard let typed = value as? T else { throw DecodingError.typeMismatch(T.self, context("unexpected type")) }
        return typed
    }

    func child(_ node: JSONTree, name: String, key: any CodingKey) -> TreeDecoder {
        TreeDecoder(node, path: path + [name], reads: reads, hollow: hollow, codingPath: codingPath + [key], standIn: standIn)
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        if standIn { return KeyedDecodingContainer(TreeKeyedContainer<Key>(decoder: self, members: [])) }
        switch node {
        case .object(let members):
            reads.opened(path, members: members.map(\.key))
            return KeyedDecodingContainer(TreeKeyedContainer<Key>(decoder: self, members: members))
        case .null:
            throw DecodingError.valueNotFound([String: Any].self, context("must not be null"))
        default:
            throw DecodingError.typeMismatch([String: Any].self, context("not an object"))
        }
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        if standIn { return TreeUnkeyedContainer(decoder: self, elements: []) }
        switch node {
        case .array(let elements): return TreeUnkeyedContainer(decoder: self, elements: elements)
        case .null: throw DecodingError.valueNotFound([Any].self, context("must not be null"))
        default: throw DecodingError.typeMismatch([Any].self, context("not an array"))
        }
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer { TreeSingleValue(decoder: self) }
}

struct TreeSingleValue: SingleValueDecodingContainer {
    let decoder: TreeDecoder
    var codingPath: [any CodingKey] { decoder.codingPath }

    func decodeNil() -> Bool {
        if case .null = decoder.node { return true }
        return false
    }

    func decode<T: Decodable>(_ type: T.Type) throws -> T { try decoder.read(T.self) }
}

struct TreeKeyedContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let decoder: TreeDecoder
    let members: [(key: String, value: JSONTree)]
    var codingPath: [any CodingKey] { decoder.codingPath }
    var allKeys: [Key] { members.compactMap { Key(stringValue: $0.key) } }

    /// The member a key names on the wire (`expiresAt` → `expires_at`), marked as read.
    private func member(_ key: Key) -> (name: String, value: JSONTree?) {
        let name = SnakeCaseKey.name(key)
        decoder.reads.read(name, of: decoder.path)
        return (name, members.first(where: { $0.key == name })?.value)
    }

    private func child(_ key: Key) throws -> TreeDecoder {
        let (name, value) = member(key)
        // A wrong member's stand-in has every member it needs; a member found missing on an
        // earlier pass is stood in for.
        if decoder.standIn || decoder.hollow.paths.contains(decoder.path + [name]) {
            return TreeDecoder(value ?? .null, path: decoder.path + [name], reads: decoder.reads, hollow: decoder.hollow,
                               codingPath: codingPath + [key], standIn: true)
        }
        guard let value else {
            throw DecodingError.keyNotFound(key, DecodingError.Context(codingPath: codingPath, debugDescription: "is required"))
        }
        return decoder.child(value, name: name, key: key)
    }

    func contains(_ key: Key) -> Bool {
        let (name, value) = member(key)
        return value != nil || decoder.hollow.paths.contains(decoder.path + [name])
    }

    func decodeNil(forKey key: Key) throws -> Bool {
        if case .null = try child(key).node { return true }
        return false
    }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T { try child(key).read(T.self) }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
        try child(key).container(keyedBy: type)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer { try child(key).unkeyedContainer() }

    func superDecoder() throws -> any Decoder {
        guard let key = Key(stringValue: "super") else { throw DecodingError.dataCorrupted(decoder.context("no super member")) }
        return try child(key)
    }

    func superDecoder(forKey key: Key) throws -> any Decoder { try child(key) }
}

struct TreeUnkeyedContainer: UnkeyedDecodingContainer {
    let decoder: TreeDecoder
    let elements: [JSONTree]
    var codingPath: [any CodingKey] { decoder.codingPath }
    var count: Int? { elements.count }
    var isAtEnd: Bool { currentIndex >= elements.count }
    private(set) var currentIndex = 0

    init(decoder: TreeDecoder, elements: [JSONTree]) {
        self.decoder = decoder
        self.elements = elements
    }

    private mutating func next() throws -> TreeDecoder {
        guard !isAtEnd else {
            throw DecodingError.valueNotFound(Any.self, DecodingError.Context(codingPath: codingPath + [TreeKey(index: currentIndex)],
                                                                              debugDescription: "is required"))
        }
        defer { currentIndex += 1 }
        return decoder.child(elements[currentIndex], name: "[\(currentIndex)]", key: TreeKey(index: currentIndex))
    }

    mutating func decodeNil() throws -> Bool {
        guard !isAtEnd, case .null = elements[currentIndex] else { return false }
        currentIndex += 1
        return true
    }

    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T { try next().read(T.self) }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
        try next().container(keyedBy: type)
    }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer { try next().unkeyedContainer() }

    mutating func superDecoder() throws -> any Decoder { try next() }
}
