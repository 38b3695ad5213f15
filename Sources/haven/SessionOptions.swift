import ArgumentParser
import HavenAPI

/// How long sessions and break-glass grants last and when accounts lock: the defaults S3–S5
/// name, which a programme's own policy may tighten or loosen within sane bounds.
struct SessionOptions: ParsableArguments {
    @Option(name: .long, help: "Minutes a bearer token may sit unused before it expires. (env HAVEN_TOKEN_IDLE_MINUTES, default 30)")
    var tokenIdleMinutes: Int?

    @Option(name: .long, help: "Hours a bearer token lasts however it is used. (env HAVEN_TOKEN_LIFETIME_HOURS, default 12)")
    var tokenLifetimeHours: Int?

    @Option(name: .long, help: "Failed logins within the window that lock an account. (env HAVEN_LOCKOUT_FAILURES, default 5)")
    var lockoutFailures: Int?

    @Option(name: .long, help: "Minutes over which failed logins count. (env HAVEN_LOCKOUT_WINDOW_MINUTES, default 15)")
    var lockoutWindowMinutes: Int?

    @Option(name: .long, help: "Minutes a locked account stays locked. (env HAVEN_LOCKOUT_MINUTES, default 15)")
    var lockoutMinutes: Int?

    @Option(name: .long, help: "Minutes a break-glass grant opens a case. (env HAVEN_BREAK_GLASS_MINUTES, default 60)")
    var breakGlassMinutes: Int?

    /// Each value from its flag, else its variable, else the default; out of bounds or not a
    /// number stops the start, naming the flag.
    func apply(to configuration: inout AppConfiguration) throws {
        func value(_ given: Int?, _ flag: String, _ variable: String, default fallback: Int, _ bounds: ClosedRange<Int>) throws -> Int {
            var resolved = fallback
            var source = "--" + flag
            if let given {
                resolved = given
            } else if let text = Environment.value(variable) {
                guard let parsed = Int(text) else { throw ValidationError("\(variable) must be a whole number") }
                resolved = parsed
                source = variable
            }
            guard bounds.contains(resolved) else { throw ValidationError("\(source) must be between \(bounds.lowerBound) and \(bounds.upperBound)") }
            return resolved
        }
        let idle = try value(tokenIdleMinutes, "token-idle-minutes", "HAVEN_TOKEN_IDLE_MINUTES", default: 30, 1...1440)
        let lifetime = try value(tokenLifetimeHours, "token-lifetime-hours", "HAVEN_TOKEN_LIFETIME_HOURS", default: 12, 1...168)
        guard lifetime * 60 >= idle else { throw ValidationError("--token-lifetime-hours must not be shorter than --token-idle-minutes") }
        configuration.tokenIdleTimeout = .seconds(idle * 60)
        configuration.tokenLifetime = .seconds(lifetime * 3600)
        configuration.lockoutThreshold = try value(lockoutFailures, "lockout-failures", "HAVEN_LOCKOUT_FAILURES", default: 5, 1...100)
        configuration.lockoutWindow = .seconds(60 * (try value(lockoutWindowMinutes, "lockout-window-minutes", "HAVEN_LOCKOUT_WINDOW_MINUTES", default: 15, 1...1440)))
        configuration.lockoutDuration = .seconds(60 * (try value(lockoutMinutes, "lockout-minutes", "HAVEN_LOCKOUT_MINUTES", default: 15, 1...1440)))
        configuration.breakGlassDuration = .seconds(60 * (try value(breakGlassMinutes, "break-glass-minutes", "HAVEN_BREAK_GLASS_MINUTES", default: 60, 5...1440)))
    }
}
