import HavenCore
import Testing

@Suite struct CountryCodeTests {
    @Test(arguments: ["MD", "RO", "UA", "GB", "US", "DE", "XK", "SS", "AX", "ZW", "AD"])
    func acceptsAssignedCodes(_ code: String) {
        #expect(CountryCode.isValid(code))
    }

    @Test(arguments: ["", "M", "MDA", "md", "Md", "UK", "EU", "XX", "ZZ", "AA", "YU", "CS", "12", " MD", "MD ", "M D", "МD"])
    func rejectsEverythingElse(_ code: String) {
        #expect(!CountryCode.isValid(code))
    }

    @Test func listHoldsTheAssignedCodesPlusKosovo() {
        // ISO 3166-1 has 249 officially assigned alpha-2 codes; XK is the widely used
        // user-assigned code for Kosovo.
        #expect(CountryCode.all.count == 250)
        for code in CountryCode.all {
            #expect(code.utf8.count == 2 && code.utf8.allSatisfy { $0 >= 0x41 && $0 <= 0x5A }, "\(code)")
        }
    }
}
