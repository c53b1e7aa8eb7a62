/// One UTC day of listens: the unit of PostgreSQL's partitioning of `listens`, named
/// `listens_YYYYMMDD` so an operator can read the table list, and covering
/// `[day start, next day start)` in milliseconds, so retention can drop whole days.
struct DayPartition: Hashable, Comparable {
    static let millisecondsPerDay: Int64 = 86_400_000
    static let namePrefix = "listens_"

    /// Days since 1970-01-01 (negative before).
    let day: Int64

    init(day: Int64) {
        self.day = day
    }

    /// The day holding `timestamp` (ms since the epoch, UTC).
    init(containing timestamp: Int64) {
        // Floor division: a timestamp before the epoch belongs to the day that starts before it.
        let (quotient, remainder) = timestamp.quotientAndRemainder(dividingBy: Self.millisecondsPerDay)
        day = remainder < 0 ? quotient - 1 : quotient
    }

    /// Reads back a name this type made; nil for any other table.
    init?(name: String) {
        guard name.hasPrefix(Self.namePrefix) else { return nil }
        let digits = name.utf8.dropFirst(Self.namePrefix.utf8.count)
        guard digits.count == 8, digits.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else { return nil }
        let number = digits.reduce(0) { $0 * 10 + Int64($1 - UInt8(ascii: "0")) }
        let (year, month, dayOfMonth) = (number / 10_000, number / 100 % 100, number % 100)
        guard (1...12).contains(month), (1...31).contains(dayOfMonth) else { return nil }
        let candidate = DayPartition(day: Self.days(year: year, month: month, day: dayOfMonth))
        // 20260231 would land on another day: only exact round trips are ours.
        guard candidate.name == name else { return nil }
        self = candidate
    }

    var lowerBound: Int64 { day * Self.millisecondsPerDay }
    var upperBound: Int64 { (day + 1) * Self.millisecondsPerDay }

    var name: String {
        let (year, month, dayOfMonth) = Self.civil(days: day)
        return Self.namePrefix + Self.padded(year, 4) + Self.padded(month, 2) + Self.padded(dayOfMonth, 2)
    }

    static func < (a: DayPartition, b: DayPartition) -> Bool { a.day < b.day }

    /// The days the records fall on.
    static func days(of records: [HistoryRecord]) -> Set<DayPartition> {
        var days: Set<DayPartition> = []
        var lastDay: DayPartition?
        for record in records {
            let day = DayPartition(containing: record.event.timestamp)
            // Batches are mostly one day: skip the set while the day stays the same.
            if day == lastDay { continue }
            lastDay = day
            days.insert(day)
        }
        return days
    }

    private static func padded(_ value: Int64, _ width: Int) -> String {
        let digits = String(value)
        return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
    }

    // Proleptic Gregorian calendar arithmetic, counted in 400-year eras (146,097 days each) of
    // years that start on March 1, so the leap day is the last day of its year.

    /// Year, month (1...12) and day of month of `days` since 1970-01-01.
    static func civil(days: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let shifted = days + 719_468  // days since 0000-03-01
        let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1_460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let marchMonth = (5 * dayOfYear + 2) / 153  // 0 = March ... 11 = February
        let dayOfMonth = dayOfYear - (153 * marchMonth + 2) / 5 + 1
        let month = marchMonth < 10 ? marchMonth + 3 : marchMonth - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        return (year, month, dayOfMonth)
    }

    /// Days since 1970-01-01 of a calendar date (the inverse of `civil`).
    static func days(year: Int64, month: Int64, day: Int64) -> Int64 {
        let marchYear = month <= 2 ? year - 1 : year
        let era = (marchYear >= 0 ? marchYear : marchYear - 399) / 400
        let yearOfEra = marchYear - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }
}
