import HavenAPI

extension AppConfiguration {
    /// A login allowance of `perMinute` that does not fill again while a test runs: a test that
    /// counts refusals must not depend on how fast the machine sends its requests (a slow one
    /// took over a minute through every operation of the contract, and got a token back).
    static func heldBack(perMinute: Int, openAPIPath: String? = nil) -> AppConfiguration {
        var configuration = AppConfiguration(host: "127.0.0.1", port: 0, loginRatePerMinute: perMinute, openAPIPath: openAPIPath)
        configuration.loginRateRefill = .seconds(86_400)
        return configuration
    }
}
