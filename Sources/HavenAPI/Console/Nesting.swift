/// Dotted names (`person.identity.given_name`) as nested objects, for templates and for the
/// JSON a form stands for.
enum Nesting {
    static func insert(_ value: Any, at path: ArraySlice<String>, into object: inout [String: Any]) {
        guard let first = path.first else { return }
        if path.count == 1 {
            object[first] = value
            return
        }
        var child = object[first] as? [String: Any] ?? [:]
        insert(value, at: path.dropFirst(), into: &child)
        object[first] = child
    }
}
