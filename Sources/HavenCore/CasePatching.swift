import Foundation

extension CaseFile {
    /// This case with a patch applied (fields absent from the patch unchanged).
    public func applying(_ patch: CasePatch, today: CalendarDate) -> CaseFile {
        var file = self
        if let value = patch.caseType { file.caseType = value }
        if let value = patch.identificationStatus { file.identificationStatus = value }
        if let value = patch.identifiedBy { file.identifiedBy = value }
        if let value = patch.identifiedOn { file.identifiedOn = value }
        if let value = patch.riskLevel { file.riskLevel = value }
        if let person = patch.person {
            if let identity = person.identity { file.identity = identity }
            var profile = file.profile
            if let value = person.sex { profile.sex = value }
            if let value = person.birthYear {
                profile.birthYear = value
                profile.ageBand = nil
                profile.minor = person.minor
            }
            if let value = person.ageBand { profile.ageBand = value }
            if let value = person.citizenship { profile.citizenship = value }
            if let value = person.languages { profile.languages = value }
            if let value = person.minor { profile.minor = value }
            if let value = person.disability { profile.disability = value }
            file.profile = profile.completed(today: today)
        }
        if let value = patch.trafficking { file.trafficking = value }
        if let value = patch.violence { file.violence = value }
        if let value = patch.note { file.note = value.isEmpty ? nil : value }
        return file
    }

    /// What a changed case must still hold together: its profiles match its type, and its
    /// person's age fields agree. Nil when it does.
    public func inconsistency(today: CalendarDate) -> ValidationFailure? {
        var check = Validator()
        if let trafficking, trafficking != TraffickingProfile(), caseType == .domesticViolence {
            check.add("trafficking", "is only recorded for trafficking cases")
        }
        if let violence, violence != ViolenceProfile(), caseType == .trafficking {
            check.add("violence", "is only recorded for domestic-violence cases")
        }
        profile.validate(&check, today: today)
        do { try check.finish() } catch let failure as ValidationFailure { return failure } catch { return nil }
        return nil
    }

    /// Closes the case: who, why, when, and the day its identifying data falls due for erasure,
    /// `retentionYears` after today (29 February becomes 28 February in a common year).
    public mutating func close(reason: String, by user: UUID, at now: Date, retentionYears years: Int) {
        let today = CalendarDate.of(now)
        status = .closed
        closedAt = now
        closedBy = user
        closureReason = reason
        retentionDue = CalendarDate(year: today.year + years, month: today.month, day: today.day)
            ?? CalendarDate(year: today.year + years, month: today.month, day: 28)
    }

    /// Reopening undoes closure whole: the closure's fields and the retention date it set go,
    /// and the count of reopenings grows.
    public mutating func reopen() {
        status = .open
        reopenedCount += 1
        closedAt = nil
        closedBy = nil
        closureReason = nil
        closureRequestedAt = nil
        closureRequestedBy = nil
        retentionDue = nil
    }
}
