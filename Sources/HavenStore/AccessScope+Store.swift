import Foundation
import HavenCore

extension AccessScope {
    /// The organisation a trail or report reader is limited to, nil for national. A scope that
    /// is neither is refused here, never read as national.
    public static func nationalOrOrganisation(_ scope: AccessScope) throws -> UUID? {
        switch scope {
        case .national: return nil
        case .organisation(let id): return id
        case .ownCases, .nothing: throw StoreError.forbidden("this role does not read this collection")
        }
    }
}
