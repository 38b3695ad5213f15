import HavenCore

/// Which page of a list is asked for: a cursor the list returned, and a page size already
/// checked by the caller.
public struct PageRequest: Sendable {
    public var cursor: String?
    public var limit: Int

    public init(cursor: String?, limit: Int) {
        self.cursor = cursor
        self.limit = limit
    }

    /// What a list's audit event records of the query: the filters used (names, never values),
    /// the order, the page size, whether it is a later page. Known before the list runs, so the
    /// event commits in the list's own round trip (`commitWithNextStatement`).
    public func auditDetail(filters: [String], sort: String? = nil) -> [String: AuditDetail] {
        var detail: [String: AuditDetail] = ["filters": .strings(filters), "limit": .int(limit), "next_page": .bool(cursor != nil)]
        if let sort { detail["sort"] = .string(sort) }
        return detail
    }
}
