@testable import Postgres
import Testing

@Suite struct PreparedNamesTests {
    /// Texts built at run time come at a new address each time; the address entries must not
    /// pin them all (a soak under list queries grew the service's memory by a quarter).
    @Test func textsBuiltAtRunTimeDoNotAccumulate() {
        var names = PreparedNames()
        let literal = "SELECT id FROM case_file WHERE id = $1"
        names[literal] = "hv1"
        var built: [String] = []
        for round in 0..<1000 {
            let sql = "SELECT id FROM case_file WHERE status = $1 LIMIT \(round % 3 + 1)"
            if names[sql] == nil { names[sql] = "hv\(round % 3 + 2)" }
            #expect(names[sql] == "hv\(round % 3 + 2)")
            built.append(sql)  // kept alive: each at its own address
        }
        #expect(names.count == 4)
        #expect(names.addressCount <= PreparedNames.addressLimit)
        #expect(names[literal] == "hv1")
        #expect(built.count == 1000)
    }

    @Test func removingANameForgetsEveryStorageOfItsText() {
        var names = PreparedNames()
        let first = "SELECT count(*) FROM audit_event WHERE case_id = $1"
        let second = String("SELECT count(*) FROM audit_event WHERE case_id = $1".reversed().reversed())
        names[first] = "hv7"
        #expect(names[second] == "hv7")
        names[first] = nil
        #expect(names[first] == nil)
        #expect(names[second] == nil)
    }
}
