/// The prepared statement name of each SQL text on one connection.
///
/// Statements are nearly always string literals, whose storage never moves: a look-up first
/// tries the text's storage address, and compares the stored text with `==`, which answers at
/// once for the same storage. Only a text seen at a new address is hashed whole. An entry keeps
/// its text alive, so its address cannot be reused by another string while it is held. Texts
/// built at run time come at a new address each time: the address entries are dropped together
/// once there are `addressLimit` of them, or they would pin every such text for ever.
struct PreparedNames {
    static let addressLimit = 128
    private var byText: [String: String] = [:]
    private var byAddress: [UnsafeRawPointer: (sql: String, name: String)] = [:]

    var count: Int { byText.count }
    var addressCount: Int { byAddress.count }

    /// The address of a string's own UTF-8 storage; nil for small strings, which live inline
    /// and would show a temporary copy's address.
    private static func address(_ sql: String) -> UnsafeRawPointer? {
        guard sql.utf8.count > 15 else { return nil }
        return sql.utf8.withContiguousStorageIfAvailable { UnsafeRawPointer($0.baseAddress) } ?? nil
    }

    subscript(sql: String) -> String? {
        mutating get {
            let address = PreparedNames.address(sql)
            if let address, let entry = byAddress[address], entry.sql == sql { return entry.name }
            guard let name = byText[sql] else { return nil }
            if let address { remember(address, sql, name) }
            return name
        }
        set {
            if let old = byText[sql] { byAddress = byAddress.filter { $0.value.name != old } }
            byText[sql] = newValue
            if let newValue, let address = PreparedNames.address(sql) { remember(address, sql, newValue) }
        }
    }

    private mutating func remember(_ address: UnsafeRawPointer, _ sql: String, _ name: String) {
        if byAddress.count >= PreparedNames.addressLimit { byAddress.removeAll(keepingCapacity: true) }
        byAddress[address] = (sql, name)
    }

    mutating func removeAll() {
        byText.removeAll(keepingCapacity: true)
        byAddress.removeAll(keepingCapacity: true)
    }
}
