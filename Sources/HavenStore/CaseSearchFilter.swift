import HavenCore
import Postgres
import Sealing

extension SQLFilter {
    /// A case search's conditions. The person is found by the keyed blind index alone, under
    /// every key of the ring (indexes stored before a rotation still match), so no name is ever
    /// compared, sent to the database or written anywhere (S11, S7); the list's own scope still
    /// decides which of the matches the caller sees.
    mutating func add(_ search: CaseSearch, keys: KeyRing) throws {
        if let reference = search.reference { add("reference = ?", reference) }
        if let from = search.identifiedFrom { add("identified_on >= ?::date", from.description) }
        if let to = search.identifiedTo { add("identified_on <= ?::date", to.description) }
        if let person = search.person {
            let indexes = try person.indexInputs.flatMap { try DuplicateCheck.indexes(for: $0, keys: keys).all }
            add("blind_index = ANY (?::bytea[])", PGTextArray(indexes.map { "\\x" + Hex.encode($0) }))
            add("anonymised_at IS NULL")
        }
    }
}
