import Foundation
import HavenCore

/// A request body whose own rules (`validate`) can be checked even when some of its members were
/// wrong, so one refusal names every field at fault: the members the body got wrong and the rules
/// the rest of it breaks. The service checks the rules again on the body it is given.
protocol RuleChecked {
    func ruleFailures() -> [FieldError]
}

extension RuleChecked {
    /// The field errors `check` throws, none when it passes.
    static func failures(_ check: () throws -> Void) -> [FieldError] {
        do {
            try check()
            return []
        } catch let failure as ValidationFailure {
            return failure.errors
        } catch {
            return []
        }
    }
}

extension CaseDraft: RuleChecked {
    func ruleFailures() -> [FieldError] { Self.failures { try validate(today: CalendarDate.of(Date())) } }
}

extension CasePatch: RuleChecked {
    func ruleFailures() -> [FieldError] { Self.failures { try validate(today: CalendarDate.of(Date())) } }
}

extension NeedDraft: RuleChecked {
    func ruleFailures() -> [FieldError] { Self.failures { try validate() } }
}

extension ServiceDraft: RuleChecked {
    func ruleFailures() -> [FieldError] { Self.failures { try validate() } }
}

extension ConsentDraft: RuleChecked {
    func ruleFailures() -> [FieldError] { Self.failures { try validate(now: Date()) } }
}

extension ReferralDraft: RuleChecked {
    func ruleFailures() -> [FieldError] { Self.failures { try validate() } }
}

extension TransitionRequest: RuleChecked {
    func ruleFailures() -> [FieldError] { Self.failures { try validate() } }
}

extension OrganisationDraft: RuleChecked {
    func ruleFailures() -> [FieldError] { Self.failures { try validate() } }
}

extension OrganisationPatch: RuleChecked {
    func ruleFailures() -> [FieldError] { Self.failures { try validate() } }
}

extension UserDraft: RuleChecked {
    func ruleFailures() -> [FieldError] { Self.failures { try validate() } }
}

extension NeedClosure: RuleChecked {
    func ruleFailures() -> [FieldError] { Self.failures { try validate() } }
}
