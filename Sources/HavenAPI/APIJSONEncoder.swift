import Foundation
import HavenCore

/// The API's JSON writer: the documents Foundation's `JSONEncoder` wrote with a snake-case key
/// strategy and RFC 3339 dates, at a fraction of its cost. Values are written straight into one
/// byte buffer as they encode themselves, members in the order the type encodes them
/// (declaration order for synthesised conformances) and dictionary keys sorted, so a document
/// is the same bytes every time. A list of fifty cases spent most of its time building
/// Foundation's coding paths, then a tree of nodes; here it builds neither.
struct APIJSONEncoder {
    func encode(_ value: some Encodable) throws -> [UInt8] {
        try encode(value) { [UInt8]($0) }
    }

    /// The document's bytes handed to `take` (valid only inside it), so an answer copies them
    /// once, into its own buffer.
    func encode<Result>(_ value: some Encodable, _ take: (UnsafeRawBufferPointer) -> Result) throws -> Result {
        let writer = JSONStreamWriter()
        try writer.encodeValue(value)
        return try writer.finish(take)
    }
}

/// Containers stay open until their parent writes its next member or closes, which is what
/// `nestedContainer(keyedBy:forKey:)` needs; a container written to after that is a misuse the
/// stream cannot follow, and an error (no type in the API does it).
final class JSONStreamWriter: Encoder {
    enum Kind { case pending, object, array, single }

    struct Frame {
        let id: Int
        var kind: Kind
        var count: Int
    }

    // One request's writer on one thread: the runtime's exclusivity checks on these cost more
    // than the writing itself.
    @exclusivity(unchecked) private var output = JSONBytes(capacity: 1024)
    @exclusivity(unchecked) private var frames: [Frame] = []
    private var nextID = 0
    /// The frame of the value being encoded: what `container(keyedBy:)` and friends open.
    private var current = -1
    /// A misuse noticed where the protocol cannot throw; `finish` throws it.
    private var misuse: String?

    var codingPath: [any CodingKey] { [] }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    /// False writes every value through its `Encodable` conformance (tests compare the two).
    let useHandwritten: Bool

    init(useHandwritten: Bool = true) {
        self.useHandwritten = useHandwritten
    }

    deinit { output.free() }

    func finish<Result>(_ take: (UnsafeRawBufferPointer) -> Result) throws -> Result {
        if let misuse { throw EncodingError.invalidValue(misuse, .init(codingPath: [], debugDescription: misuse)) }
        while !frames.isEmpty { closeTop() }
        return take(output.contents)
    }

    // MARK: values

    func encodeValue<T: Encodable>(_ value: T) throws {
        // Metatype checks first: they cost nothing, where a dynamic cast per value would.
        if T.self == String.self, let text = value as? String { return writeString(text) }
        if T.self == UUID.self, let uuid = value as? UUID { return writeUUID(uuid) }
        if T.self == Date.self, let date = value as? Date { return Timestamps.write(date, into: &output) }
        if T.self == Int.self, let number = value as? Int { return writeInteger(number) }
        if T.self == Bool.self, let flag = value as? Bool { return writeBool(flag) }
        if T.self == CalendarDate.self, let day = value as? CalendarDate { return writeDay(day) }
        if T.self == URL.self, let url = value as? URL { return writeString(url.absoluteString) }
        if T.self == Data.self, let data = value as? Data { return writeString(data.base64EncodedString()) }
        if T.self == JSONValue.self, let json = value as? JSONValue { return try writeJSONValue(json) }
        if useHandwritten, let writable = value as? any JSONWritable { return try writable.writeJSON(to: self) }
        // Only a one-word value can be a dictionary: structs and enums skip the dynamic cast.
        if MemoryLayout<T>.size == MemoryLayout<[String: Int]>.size, let dictionary = value as? any SortedKeysEncodable {
            return try dictionary.writeSortedEntries(to: self)
        }
        let id = push(.pending)
        let saved = current
        current = id
        defer { current = saved }
        try value.encode(to: self)
        try close(through: id)
    }

    func writeJSONValue(_ value: JSONValue) throws {
        switch value {
        case .string(let text): writeString(text)
        case .int(let number): writeInteger(number)
        case .double(let number): try writeDouble(number)
        case .bool(let flag): writeBool(flag)
        case .null: writeNull()
        case .array(let elements): try writeArray(elements) { try self.writeJSONValue($0) }
        case .object(let members):
            try writeSorted(members) { try self.writeJSONValue($0) }
        }
    }

    /// An object with its keys (converted like any other key) in byte order.
    func writeSorted<Value>(_ members: [String: Value], _ write: (Value) throws -> Void) rethrows {
        output.append(UInt8(ascii: "{"))
        let entries = members.map { (key: SnakeCaseKey.name($0.key), value: $0.value) }.sorted { $0.key < $1.key }
        var previous: String?
        for entry in entries where entry.key != previous {
            if previous != nil { output.append(UInt8(ascii: ",")) }
            previous = entry.key
            writeString(entry.key)
            output.append(UInt8(ascii: ":"))
            try write(entry.value)
        }
        output.append(UInt8(ascii: "}"))
    }

    func writeArray<Element>(_ elements: [Element], _ write: (Element) throws -> Void) rethrows {
        output.append(UInt8(ascii: "["))
        for (index, element) in elements.enumerated() {
            if index > 0 { output.append(UInt8(ascii: ",")) }
            try write(element)
        }
        output.append(UInt8(ascii: "]"))
    }

    func writeBool(_ flag: Bool) { output.append(flag ? "true" : "false" as StaticString) }

    func writeInteger(_ number: some BinaryInteger) { output.appendInteger(number) }

    func writeDouble(_ number: Double) throws {
        guard number.isFinite else {
            throw EncodingError.invalidValue(number, .init(codingPath: [], debugDescription: "\(number) is not a JSON number"))
        }
        var text = number.description
        if text.hasSuffix(".0") { text.removeLast(2) }
        output.append(text)
    }

    func writeNull() { output.append("null" as StaticString) }

    func writeByte(_ byte: UInt8) { output.append(byte) }

    func writeKey(_ name: StaticString) {
        output.append(UInt8(ascii: "\""))
        output.append(name)
        output.append("\":" as StaticString)
    }

    func writeDate(_ date: Date) { Timestamps.write(date, into: &output) }

    func writeDay(_ day: CalendarDate) {
        output.append(UInt8(ascii: "\""))
        output.append(day: day)
        output.append(UInt8(ascii: "\""))
    }

    func writeUUID(_ uuid: UUID) {
        output.append(UInt8(ascii: "\""))
        uuid.withSpelling(upper: true) { output.append(bytes: $0) }
        output.append(UInt8(ascii: "\""))
    }

    func writeString(_ text: String) {
        output.append(UInt8(ascii: "\""))
        // Most strings need no escape: copy them whole.
        var text = text
        let plain = text.withUTF8 { bytes in
            for byte in bytes where byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") { return false }
            output.append(bytes: UnsafeRawBufferPointer(bytes))
            return true
        }
        if plain {
            output.append(UInt8(ascii: "\""))
            return
        }
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): output.append("\\\"" as StaticString)
            case UInt8(ascii: "\\"): output.append("\\\\" as StaticString)
            case 0x0A: output.append("\\n" as StaticString)
            case 0x0D: output.append("\\r" as StaticString)
            case 0x09: output.append("\\t" as StaticString)
            case 0x08: output.append("\\b" as StaticString)
            case 0x0C: output.append("\\f" as StaticString)
            case 0x00..<0x20:
                let hex: StaticString = "0123456789abcdef"
                output.append("\\u00" as StaticString)
                output.append(hex.utf8Start[Int(byte >> 4)])
                output.append(hex.utf8Start[Int(byte & 0x0F)])
            default: output.append(byte)
            }
        }
        output.append(UInt8(ascii: "\""))
    }

    // MARK: frames

    func push(_ kind: Kind) -> Int {
        nextID += 1
        frames.append(Frame(id: nextID, kind: kind, count: 0))
        return nextID
    }

    private func index(of id: Int) -> Int? {
        var index = frames.count - 1
        while index >= 0 {
            if frames[index].id == id { return index }
            index -= 1
        }
        return nil
    }

    private func closeTop() {
        guard let frame = frames.popLast() else { return }
        switch frame.kind {
        case .object: output.append(UInt8(ascii: "}"))
        case .array: output.append(UInt8(ascii: "]"))
        // A value that opened no container, or a single-value container left empty, is an
        // empty object, as Foundation wrote it.
        case .pending: output.append("{}" as StaticString)
        case .single: if frame.count == 0 { output.append("{}" as StaticString) }
        }
    }

    /// Closes `id` and every frame opened inside it.
    func close(through id: Int) throws {
        guard let index = index(of: id) else { throw unsupported("a value's container was closed twice") }
        while frames.count > index { closeTop() }
    }

    /// Opens frame `id` as a container of `kind`; asking again for the same kind is allowed.
    func open(_ id: Int, as kind: Kind) {
        guard let index = index(of: id) else { return note("a container was asked for after its value was written") }
        while frames.count > index + 1 { closeTop() }
        switch (frames[index].kind, kind) {
        case (.pending, .object): output.append(UInt8(ascii: "{"))
        case (.pending, .array): output.append(UInt8(ascii: "["))
        case (.pending, .single): break
        case (let existing, let wanted) where existing == wanted: return
        default: return note("one value asked for two kinds of container")
        }
        frames[index].kind = kind
    }

    /// Starts the next member or element of frame `id`: closes what was opened inside it since,
    /// writes the separator and, in an object, the key.
    func begin(_ id: Int, key: String? = nil) throws {
        try separate(id)
        if let key {
            writeString(key)
            output.append(UInt8(ascii: ":"))
        }
    }

    /// `begin` for a member named by a coding key, its wire name written straight into the output.
    func begin(_ id: Int, codingKey: some CodingKey) throws {
        try separate(id)
        if codingKey.intValue != nil || !SnakeCaseKey.appendQuoted(codingKey.stringValue, to: &output) {
            writeString(SnakeCaseKey.name(codingKey))
        }
        output.append(UInt8(ascii: ":"))
    }

    private func separate(_ id: Int) throws {
        guard let index = index(of: id) else { throw unsupported("a container was written to after its parent moved on") }
        while frames.count > index + 1 { closeTop() }
        if frames[index].kind == .single && frames[index].count > 0 { throw unsupported("a single-value container was written twice") }
        if frames[index].count > 0 { output.append(UInt8(ascii: ",")) }
        frames[index].count += 1
    }

    func count(of id: Int) -> Int { index(of: id).map { frames[$0].count } ?? 0 }

    func beginOrNote(_ id: Int, key: String?) {
        do { try begin(id, key: key) } catch { note("\(error)") }
    }

    private func note(_ message: String) {
        if misuse == nil { misuse = message }
    }

    private func unsupported(_ message: String) -> EncodingError {
        EncodingError.invalidValue(message, .init(codingPath: [], debugDescription: message))
    }

    // MARK: containers (for both encoders and the containers' nested ones)

    func keyedContainer<Key: CodingKey>(_ frame: Int) -> KeyedEncodingContainer<Key> {
        open(frame, as: .object)
        return KeyedEncodingContainer(StreamKeyedContainer<Key>(writer: self, frame: frame))
    }

    func elementContainer(_ frame: Int, as kind: Kind) -> StreamElementContainer {
        open(frame, as: kind)
        return StreamElementContainer(writer: self, frame: frame)
    }

    /// A frame for the next member of `parent` (named `key` in an object), opened by its user.
    func member(of parent: Int, key: String?) -> Int {
        beginOrNote(parent, key: key)
        return push(.pending)
    }

    // MARK: Encoder

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> { keyedContainer(current) }
    func unkeyedContainer() -> any UnkeyedEncodingContainer { elementContainer(current, as: .array) }
    func singleValueContainer() -> any SingleValueEncodingContainer { elementContainer(current, as: .single) }
}

/// Dictionaries with string keys write their members sorted, so a document does not depend on
/// hash order.
protocol SortedKeysEncodable {
    func writeSortedEntries(to writer: JSONStreamWriter) throws
}

extension Dictionary: SortedKeysEncodable where Key == String, Value: Encodable {
    func writeSortedEntries(to writer: JSONStreamWriter) throws {
        try writer.writeSorted(self) { try writer.encodeValue($0) }
    }
}

/// An encoder for a value whose frame is already open: what `superEncoder` hands out.
final class StreamSubEncoder: Encoder {
    let writer: JSONStreamWriter
    let frame: Int
    var codingPath: [any CodingKey] { [] }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    init(writer: JSONStreamWriter, frame: Int) {
        self.writer = writer
        self.frame = frame
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> { writer.keyedContainer(frame) }
    func unkeyedContainer() -> any UnkeyedEncodingContainer { writer.elementContainer(frame, as: .array) }
    func singleValueContainer() -> any SingleValueEncodingContainer { writer.elementContainer(frame, as: .single) }
}

struct StreamKeyedContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let writer: JSONStreamWriter
    let frame: Int
    var codingPath: [any CodingKey] { [] }

    private func begin(_ key: Key) throws { try writer.begin(frame, codingKey: key) }

    mutating func encodeNil(forKey key: Key) throws { try begin(key); writer.writeNull() }
    mutating func encode(_ value: Bool, forKey key: Key) throws { try begin(key); writer.writeBool(value) }
    mutating func encode(_ value: String, forKey key: Key) throws { try begin(key); writer.writeString(value) }
    mutating func encode(_ value: Double, forKey key: Key) throws { try begin(key); try writer.writeDouble(value) }
    mutating func encode(_ value: Float, forKey key: Key) throws { try begin(key); try writer.writeDouble(Double(value)) }
    mutating func encode(_ value: Int, forKey key: Key) throws { try begin(key); writer.writeInteger(value) }
    mutating func encode(_ value: Int8, forKey key: Key) throws { try begin(key); writer.writeInteger(value) }
    mutating func encode(_ value: Int16, forKey key: Key) throws { try begin(key); writer.writeInteger(value) }
    mutating func encode(_ value: Int32, forKey key: Key) throws { try begin(key); writer.writeInteger(value) }
    mutating func encode(_ value: Int64, forKey key: Key) throws { try begin(key); writer.writeInteger(value) }
    mutating func encode(_ value: UInt, forKey key: Key) throws { try begin(key); writer.writeInteger(value) }
    mutating func encode(_ value: UInt8, forKey key: Key) throws { try begin(key); writer.writeInteger(value) }
    mutating func encode(_ value: UInt16, forKey key: Key) throws { try begin(key); writer.writeInteger(value) }
    mutating func encode(_ value: UInt32, forKey key: Key) throws { try begin(key); writer.writeInteger(value) }
    mutating func encode(_ value: UInt64, forKey key: Key) throws { try begin(key); writer.writeInteger(value) }
    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws { try begin(key); try writer.encodeValue(value) }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
        writer.keyedContainer(writer.member(of: frame, key: SnakeCaseKey.name(key)))
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        writer.elementContainer(writer.member(of: frame, key: SnakeCaseKey.name(key)), as: .array)
    }

    mutating func superEncoder() -> any Encoder {
        StreamSubEncoder(writer: writer, frame: writer.member(of: frame, key: "super"))
    }

    mutating func superEncoder(forKey key: Key) -> any Encoder {
        StreamSubEncoder(writer: writer, frame: writer.member(of: frame, key: SnakeCaseKey.name(key)))
    }
}

/// An array's elements, or a single value: the same writes, one after the separator its frame
/// needs (a single-value frame takes exactly one).
struct StreamElementContainer: UnkeyedEncodingContainer, SingleValueEncodingContainer {
    let writer: JSONStreamWriter
    let frame: Int
    var codingPath: [any CodingKey] { [] }
    var count: Int { writer.count(of: frame) }

    mutating func encodeNil() throws { try writer.begin(frame); writer.writeNull() }
    mutating func encode(_ value: Bool) throws { try writer.begin(frame); writer.writeBool(value) }
    mutating func encode(_ value: String) throws { try writer.begin(frame); writer.writeString(value) }
    mutating func encode(_ value: Double) throws { try writer.begin(frame); try writer.writeDouble(value) }
    mutating func encode(_ value: Float) throws { try writer.begin(frame); try writer.writeDouble(Double(value)) }
    mutating func encode(_ value: Int) throws { try writer.begin(frame); writer.writeInteger(value) }
    mutating func encode(_ value: Int64) throws { try writer.begin(frame); writer.writeInteger(value) }
    mutating func encode<T: Encodable>(_ value: T) throws { try writer.begin(frame); try writer.encodeValue(value) }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        writer.keyedContainer(writer.member(of: frame, key: nil))
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        writer.elementContainer(writer.member(of: frame, key: nil), as: .array)
    }

    mutating func superEncoder() -> any Encoder {
        StreamSubEncoder(writer: writer, frame: writer.member(of: frame, key: nil))
    }
}
